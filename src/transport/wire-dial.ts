// Connecting to a server's `/wire`: open the WebSocket, then run the client side of the handshake
// (HELLO → CHALLENGE checked against the host key → AUTH → WELCOME), offering the user's keys in
// turn until the server accepts one.

import { randomBytes } from "node:crypto";
import type { Socket } from "node:net";
import type { WebSocket } from "ws";
import { createError, isSynclineError } from "../protocol/errors.js";
import { checkChosenWireVersion, supportedWireVersions } from "../protocol/wire-version.js";
import { signClientAuth } from "./auth/client-auth.js";
import { fingerprintOf } from "./auth/fingerprint.js";
import { verifyHostSignature } from "./auth/host-signature.js";
import type { Identity } from "./auth/identity.js";
import { formatPublicKey, parsePublicKey } from "./auth/public-key.js";
import type { Signer } from "./auth/signer.js";
import { dialWebSocket } from "./dial-websocket.js";
import type { ServerAddress } from "./server-address.js";
import { defaultOpenCredit } from "./stream/open-credit.js";
import { wirePath } from "./wire-address.js";
import { WireConnection } from "./wire-connection.js";
import { channelBindingOf, nextMessage } from "./wire-handshake.js";
import { defaultWireMaxFrameBytes } from "./wire-server.js";

/** The server's host key, as a client checks it (see `DialOptions.verifyHostKey`). */
export interface ServerHostKey {
  /** The server dialed. */
  readonly address: ServerAddress;
  /** The host key's `SHA256:…` fingerprint. */
  readonly fingerprint: string;
  /** The host key as an OpenSSH line, `type base64`. */
  readonly publicKey: string;
}

/** How to reach and authenticate to a server. */
export interface DialOptions {
  /** The server (its `/wire` endpoint is dialed). */
  readonly address: ServerAddress;
  /**
   * Signs the handshake with the user's key; or several keys offered in turn, as ssh offers an
   * agent's keys: when the server refuses one as not authorized (ERR_AUTH_NOT_AUTHORIZED), the
   * next is tried on a new connection, at most once each.
   */
  readonly signer: Signer | readonly Signer[];
  /** The server's host-key fingerprint to insist on (`SHA256:…`), if pinned. */
  readonly serverFingerprint?: string;
  /**
   * Checks the server's host key once its signature over this connection verified, before we
   * authenticate; throw (ERR_AUTH_HOST_KEY, which is final) to refuse the server. Called on every
   * connection, reconnections included. The CLI keeps a known_hosts file with it.
   */
  readonly verifyHostKey?: (host: ServerHostKey) => void | Promise<void>;
  /** Told each step worth a debug line: each key offered, each one refused. */
  readonly debug?: (message: string) => void;
  /** Time for the TCP/TLS/WebSocket connection and the handshake together, ms. Default 10000. */
  readonly handshakeTimeoutMs?: number;
  /** Extra CA certificates (PEM) to trust for wss://, e.g. a self-signed server's. */
  readonly ca?: string | Buffer;
  /** The client software, sent in HELLO. */
  readonly agent?: string;
}

/** An authenticated connection and what the server told us. */
export interface DialedConnection {
  readonly connection: WireConnection;
  /** Our key's fingerprint as the server knows it. */
  readonly peerId: string;
  /** The key the server accepted (one of `DialOptions.signer`). */
  readonly signer: Signer;
  /** The server's host-key fingerprint. */
  readonly serverFingerprint: string;
  readonly serverId: string;
  /** How often the server pings, ms (our liveness deadline builds on it). */
  readonly heartbeatMs: number;
}

/**
 * Connects and authenticates, offering each key in turn until the server accepts one; rejects
 * with a SynclineError carrying the close code (the last key's refusal, when all were refused).
 */
export async function dial(options: DialOptions): Promise<DialedConnection> {
  const signers: readonly Signer[] = Array.isArray(options.signer)
    ? options.signer
    : [options.signer as Signer];
  for (const [index, signer] of signers.entries()) {
    options.debug?.(`offering ${describeSigner(signer)} (key ${index + 1} of ${signers.length})`);
    try {
      return await dialWith(options, signer);
    } catch (error) {
      if (!isSynclineError(error, "ERR_AUTH_NOT_AUTHORIZED") || signers.length === 1) throw error;
      if (index + 1 === signers.length) {
        const message = `${error.message} (the last of ${signers.length} keys offered; none was)`;
        throw createError(error.code, message, { cause: error, closeCode: error.closeCode });
      }
      options.debug?.(`${describeSigner(signer)} refused: ${error.message}; trying the next key`);
    }
  }
  throw createError("ERR_AUTH_NO_IDENTITY", "wire: no key to offer (an empty signer list)");
}

/** One connection attempt signing with `signer`. */
async function dialWith(options: DialOptions, signer: Signer): Promise<DialedConnection> {
  const deadline = Date.now() + (options.handshakeTimeoutMs ?? 10_000);
  const { socket, transport } = await openSocket(options, deadline);
  const connection = new WireConnection(socket, {
    role: "client",
    maxFrameBytes: defaultWireMaxFrameBytes,
    transport,
  });
  try {
    return await handshake(connection, transport, { ...options, signer }, deadline);
  } catch (error) {
    connection.terminate();
    throw error;
  }
}

async function handshake(
  connection: WireConnection,
  transport: Socket,
  options: DialOptions & { readonly signer: Signer },
  deadline: number,
): Promise<DialedConnection> {
  const clientNonce = randomBytes(32);
  connection.send({
    type: "hello",
    versions: supportedWireVersions,
    clientNonce,
    agent: options.agent ?? "syncline",
    openCredit: defaultOpenCredit,
  });
  connection.eagerReceiveCredit.setLimit(defaultOpenCredit);
  const challenge = await nextMessage(connection, "challenge", deadline);
  checkChosenWireVersion(challenge.version, supportedWireVersions);
  const fields = {
    serverId: challenge.serverId,
    sessionId: challenge.sessionId,
    nonce: challenge.nonce,
    clientNonce,
    channelBinding: channelBindingOf(transport),
  };
  let host: ReturnType<typeof verifyHostSignature>;
  try {
    host = verifyHostSignature({
      ...fields,
      hostKey: challenge.hostKey,
      hostSignature: challenge.hostSignature,
      ...(options.serverFingerprint === undefined
        ? {}
        : { pinnedFingerprint: options.serverFingerprint }),
    });
  } catch (error) {
    throw withProxyHint(error, fields.channelBinding);
  }
  await options.verifyHostKey?.({
    address: options.address,
    fingerprint: host.fingerprint,
    publicKey: formatPublicKey(host.key),
  });
  connection.send({ type: "auth", ...(await signClientAuth(options.signer, fields)) });
  const welcome = await nextMessage(connection, "welcome", deadline);
  connection.setMaxFrameBytes(welcome.maxFrameBytes);
  connection.eagerSendCredit.setLimit(welcome.openCredit ?? 0);
  return {
    connection,
    peerId: welcome.peerId,
    signer: options.signer,
    serverFingerprint: host.fingerprint,
    serverId: challenge.serverId,
    heartbeatMs: welcome.heartbeatMs,
  };
}

/** A key as debug lines name it: its fingerprint, and its comment and source when known. */
function describeSigner(signer: Signer): string {
  const known = signer as Partial<Identity>;
  if (known.fingerprint !== undefined) {
    const comment = known.comment ? ` "${known.comment}"` : "";
    return `key ${known.fingerprint}${comment} from ${known.source}`;
  }
  const key = parsePublicKey(signer.publicKey, (reason) =>
    createError("ERR_AUTH_KEY_FILE", `wire: signer public key: ${reason}`),
  );
  return `key ${fingerprintOf(key)}`;
}

function openSocket(
  options: DialOptions,
  deadline: number,
): Promise<{ socket: WebSocket; transport: Socket }> {
  return dialWebSocket({
    address: options.address,
    path: wirePath,
    context: "wire",
    timeoutMs: Math.max(1, deadline - Date.now()),
    maxPayload: defaultWireMaxFrameBytes,
    ca: options.ca,
  });
}

/**
 * A host signature that does not verify over TLS is most often a proxy that ends TLS in front of
 * the server: each end then binds a different TLS session, and no signature can verify. Say so,
 * since the bare message points at the key instead.
 */
export function withProxyHint(error: unknown, channelBinding: Uint8Array): unknown {
  if (!isSynclineError(error, "ERR_AUTH_SIGNATURE") || channelBinding.length === 0) return error;
  return createError(
    "ERR_AUTH_SIGNATURE",
    `${error.message} (if a proxy in front of the server ends TLS, no signature can verify: /wire needs TLS to end in the server itself, e.g. passed through by SNI)`,
    { cause: error },
  );
}
