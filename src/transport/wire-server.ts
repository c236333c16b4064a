// The server end of the transport: takes an upgraded WebSocket on `/wire`, runs the handshake
// (HELLO → CHALLENGE → AUTH → WELCOME) under a deadline and a small frame limit, then hands the
// authenticated connection to its owner and keeps it alive with pings.

import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { WebSocket } from "ws";
import { createError, isSynclineError, type SynclineError } from "../protocol/errors.js";
import { frameHeaderBytes } from "../protocol/wire-frame.js";
import { negotiateWireVersion } from "../protocol/wire-version.js";
import type { AuthorizedKey } from "./auth/authorized-keys.js";
import { type ChallengeIssuer, verifyClientAuth } from "./auth/challenge.js";
import { signHostTranscript } from "./auth/host-signature.js";
import type { Signer } from "./auth/signer.js";
import { startHeartbeat } from "./heartbeat.js";
import { defaultOpenCredit } from "./stream/open-credit.js";
import { WireConnection, type WireTraffic } from "./wire-connection.js";
import { channelBindingOf, nextMessage } from "./wire-handshake.js";

/** The subset of a pino logger the transport writes to. */
export interface WireLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

/** An authenticated connection, handed to the owner (the channel hub). */
export interface WireSession {
  readonly connection: WireConnection;
  /** The client key's `SHA256:…` fingerprint. */
  readonly peerId: string;
  /** The authorized_keys comment of the client's key, for logs. */
  readonly peerName: string;
  /**
   * The user the key belongs to (its authorized_keys line's `syncline-user="…"`); undefined for
   * a key without one, which belongs to the default user.
   */
  readonly user: string | undefined;
  readonly remoteAddress: string;
}

/** What the server end needs. */
export interface WireServerOptions {
  /** This server's id, sent in CHALLENGE. */
  readonly serverId: string;
  readonly hostKey: Signer;
  readonly challenges: ChallengeIssuer;
  /** The current authorized_keys entries (read on every handshake, so a reload takes effect). */
  readonly authorizedKeys: () => readonly AuthorizedKey[];
  readonly onSession: (session: WireSession) => void;
  readonly logger: WireLogger;
  /** Ping period, ms. Default 20000. */
  readonly heartbeatMs?: number;
  /** Silence allowed beyond the ping period before the peer is dropped, ms. Default 10000. */
  readonly graceMs?: number;
  /** Time allowed for the whole handshake, ms. Default 10000. */
  readonly handshakeTimeoutMs?: number;
  /** Largest frame before authentication (header included). Default 16 KiB. */
  readonly preAuthMaxFrameBytes?: number;
  /** Largest frame after authentication (header included). Default 1 MiB + header. */
  readonly maxFrameBytes?: number;
  /**
   * The client's address when the server knows better than the socket (behind a trusted proxy):
   * logged, and matched against `from=`. Default: the socket's (a Unix socket's: 127.0.0.1).
   */
  readonly remoteAddress?: string;
  /** Told when a handshake ends in a refusal (a failed authentication, a timeout…). */
  readonly onHandshakeFailed?: (error: SynclineError) => void;
  /** Told of authentications, refusals, closes and bytes (metrics). Default: nothing. */
  readonly observer?: WireServerObserver;
}

/** What the server end reports. */
export interface WireServerObserver extends WireTraffic {
  /** A connection completed the handshake. */
  authenticated(): void;
  /** An authenticated connection closed. */
  sessionClosed(): void;
  /** A handshake was refused or failed; `code` is the error's (ERR_AUTH_NOT_AUTHORIZED, …). */
  refused(code: string): void;
}

/** The largest payload a `/wire` frame may carry once authenticated: the ws maxPayload to use. */
export const defaultWireMaxFrameBytes = 1024 * 1024 + frameHeaderBytes;

/**
 * What a client may pipeline behind its AUTH, before WELCOME: held, then handled in order once
 * the connection is authenticated (or dropped if it is not). A protocol constant, not a setting:
 * a client must know how much it may send unanswered (docs/protocol.md says these numbers).
 */
export const pipelinedLimits = { maxMessages: 16, maxBytes: 64 * 1024 } as const;

/** Takes over an upgraded socket: handshake, then `onSession`, or a close code on failure. */
export function acceptWireConnection(
  socket: WebSocket,
  request: IncomingMessage,
  options: WireServerOptions,
): void {
  const { observer } = options;
  const connection = new WireConnection(socket, {
    role: "server",
    maxFrameBytes: options.preAuthMaxFrameBytes ?? 16 * 1024,
    transport: request.socket,
    ...(observer ? { traffic: observer } : {}),
  });
  const connectionId = randomUUID();
  const remoteAddress = options.remoteAddress ?? request.socket.remoteAddress ?? "unix";
  const log = { connectionId, remoteAddress };
  connection.on("close", (code, reason, error) => {
    options.challenges.release(connectionId);
    const fields = { ...log, code, reason, ...(error ? { err: error.code } : {}) };
    options.logger.info(fields, "wire connection closed");
  });
  void handshake(connection, request, connectionId, options).then(
    (session) => {
      if (!session) return;
      options.logger.info(
        { ...log, peerId: session.peerId, peer: session.peerName, user: session.user ?? null },
        "wire authenticated",
      );
      observer?.authenticated();
      connection.on("close", () => observer?.sessionClosed());
      keepAlive(connection, options);
      options.onSession(session);
      connection.releaseHeld(); // frames pipelined behind AUTH, now that someone listens
    },
    (error: unknown) => {
      const failure = isSynclineError(error)
        ? error
        : createError("ERR_UNEXPECTED", `wire: handshake failed: ${String(error)}`, {
            cause: error,
          });
      const detail = failure.cause instanceof Error ? failure.cause.message : undefined;
      options.logger.warn(
        { ...log, err: failure.code, reason: failure.message, ...(detail ? { detail } : {}) },
        "wire handshake refused",
      );
      observer?.refused(failure.code);
      options.onHandshakeFailed?.(failure);
      connection.fail(toldToClient(failure));
    },
  );
}

/**
 * The refusal the client is sent: the error itself (its message names only what the client sent
 * or may know), except an unexpected failure, whose message may show the server's insides.
 */
function toldToClient(failure: SynclineError): SynclineError {
  if (failure.code !== "ERR_UNEXPECTED") return failure;
  return createError(
    "ERR_UNEXPECTED",
    "wire: the server failed during the handshake (see its log)",
  );
}

async function handshake(
  connection: WireConnection,
  request: IncomingMessage,
  connectionId: string,
  options: WireServerOptions,
): Promise<WireSession | undefined> {
  const deadline = Date.now() + (options.handshakeTimeoutMs ?? 10_000);
  const hello = await nextMessage(connection, "hello", deadline);
  const version = negotiateWireVersion(hello.versions);
  const issued = options.challenges.issue(connectionId);
  const channelBinding = channelBindingOf(request.socket);
  const fields = {
    serverId: options.serverId,
    sessionId: issued.sessionId,
    nonce: issued.nonce,
    clientNonce: hello.clientNonce,
    channelBinding,
  };
  const hostSignature = await signHostTranscript(options.hostKey, fields);
  connection.send({
    type: "challenge",
    version,
    serverId: options.serverId,
    sessionId: issued.sessionId,
    nonce: issued.nonce,
    expiresInMs: issued.expiresInMs,
    hostKey: options.hostKey.publicKey,
    hostSignature,
  });
  connection.holdMessagesAfter("auth", pipelinedLimits);
  const auth = await nextMessage(connection, "auth", deadline);
  const result = verifyClientAuth({
    issued,
    clientNonce: hello.clientNonce,
    serverId: options.serverId,
    channelBinding,
    publicKey: auth.publicKey,
    signature: auth.signature,
    authorizedKeys: options.authorizedKeys(),
    remoteAddress: options.remoteAddress ?? addressForKeyOptions(request),
  });
  if (!connection.isOpen) return undefined;
  const maxFrameBytes = options.maxFrameBytes ?? defaultWireMaxFrameBytes;
  connection.setMaxFrameBytes(maxFrameBytes);
  const heartbeatMs = options.heartbeatMs ?? 20_000;
  connection.eagerSendCredit.setLimit(hello.openCredit ?? 0);
  connection.eagerReceiveCredit.setLimit(defaultOpenCredit);
  connection.send({
    type: "welcome",
    peerId: result.fingerprint,
    heartbeatMs,
    maxFrameBytes,
    openCredit: defaultOpenCredit,
  });
  return {
    connection,
    peerId: result.fingerprint,
    peerName: result.entry.comment || result.fingerprint,
    user: result.entry.user,
    remoteAddress: options.remoteAddress ?? request.socket.remoteAddress ?? "unix",
  };
}

/**
 * The address `from=` patterns are matched against. A Unix-socket peer has none; it is on this
 * machine by construction, so it counts as loopback (documented in docs/operations.md).
 */
function addressForKeyOptions(request: IncomingMessage): string {
  return request.socket.remoteAddress ?? "127.0.0.1";
}

/** Pings every heartbeat period; a peer silent for period + grace is cut (no close handshake). */
function keepAlive(connection: WireConnection, options: WireServerOptions): void {
  const intervalMs = options.heartbeatMs ?? 20_000;
  const pinger = setInterval(() => connection.ping(), intervalMs);
  pinger.unref();
  const heartbeat = startHeartbeat({
    intervalMs,
    graceMs: options.graceMs ?? 10_000,
    onTimeout: (silentForMs) => {
      options.logger.warn({ silentForMs }, "wire peer silent past its deadline; terminating");
      connection.terminate();
    },
  });
  connection.on("activity", () => heartbeat.alive());
  connection.on("close", () => {
    clearInterval(pinger);
    heartbeat.stop();
  });
}
