// One connection attempt to a server's `/wire`: open the WebSocket, then run the client side of
// the handshake (HELLO → CHALLENGE checked against the host key → AUTH → WELCOME).

import { randomBytes } from "node:crypto";
import type { Socket } from "node:net";
import type { WebSocket } from "ws";
import { checkChosenWireVersion, supportedWireVersions } from "../protocol/wire-version.js";
import { signClientAuth } from "./auth/client-auth.js";
import { verifyHostSignature } from "./auth/host-signature.js";
import type { Signer } from "./auth/signer.js";
import { dialWebSocket } from "./dial-websocket.js";
import type { ServerAddress } from "./server-address.js";
import { wirePath } from "./wire-address.js";
import { WireConnection } from "./wire-connection.js";
import { channelBindingOf, nextMessage } from "./wire-handshake.js";
import { defaultWireMaxFrameBytes } from "./wire-server.js";

/** How to reach and authenticate to a server. */
export interface DialOptions {
  /** The server (its `/wire` endpoint is dialed). */
  readonly address: ServerAddress;
  /** Signs the handshake with the user's key. */
  readonly signer: Signer;
  /** The server's host-key fingerprint to insist on (`SHA256:…`), if pinned. */
  readonly serverFingerprint?: string;
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
  /** The server's host-key fingerprint. */
  readonly serverFingerprint: string;
  readonly serverId: string;
  /** How often the server pings, ms (our liveness deadline builds on it). */
  readonly heartbeatMs: number;
}

/** Connects and authenticates once; rejects with a SynclineError carrying the close code. */
export async function dial(options: DialOptions): Promise<DialedConnection> {
  const deadline = Date.now() + (options.handshakeTimeoutMs ?? 10_000);
  const { socket, transport } = await openSocket(options, deadline);
  const connection = new WireConnection(socket, {
    role: "client",
    maxFrameBytes: defaultWireMaxFrameBytes,
    transport,
  });
  try {
    return await handshake(connection, transport, options, deadline);
  } catch (error) {
    connection.terminate();
    throw error;
  }
}

async function handshake(
  connection: WireConnection,
  transport: Socket,
  options: DialOptions,
  deadline: number,
): Promise<DialedConnection> {
  const clientNonce = randomBytes(32);
  connection.send({
    type: "hello",
    versions: supportedWireVersions,
    clientNonce,
    agent: options.agent ?? "syncline",
  });
  const challenge = await nextMessage(connection, "challenge", deadline);
  checkChosenWireVersion(challenge.version, supportedWireVersions);
  const fields = {
    serverId: challenge.serverId,
    sessionId: challenge.sessionId,
    nonce: challenge.nonce,
    clientNonce,
    channelBinding: channelBindingOf(transport),
  };
  const host = verifyHostSignature({
    ...fields,
    hostKey: challenge.hostKey,
    hostSignature: challenge.hostSignature,
    ...(options.serverFingerprint === undefined
      ? {}
      : { pinnedFingerprint: options.serverFingerprint }),
  });
  connection.send({ type: "auth", ...(await signClientAuth(options.signer, fields)) });
  const welcome = await nextMessage(connection, "welcome", deadline);
  connection.setMaxFrameBytes(welcome.maxFrameBytes);
  return {
    connection,
    peerId: welcome.peerId,
    serverFingerprint: host.fingerprint,
    serverId: challenge.serverId,
    heartbeatMs: welcome.heartbeatMs,
  };
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
