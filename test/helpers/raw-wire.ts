// A raw `/wire` client for attack tests: it speaks the handshake by hand, so a test chooses what
// goes on the wire and when (AUTH and OPEN in one TCP write, a forged key, a hostile OPEN), and
// reads every frame the server sends back.

import { randomBytes } from "node:crypto";
import type { Socket } from "node:net";
import type { WebSocket } from "ws";
import { decodeFrame } from "../../src/protocol/wire-frame.js";
import {
  type ClientMessage,
  decodeServerMessage,
  encodeMessage,
  type MessageOf,
  type ServerMessage,
} from "../../src/protocol/wire-messages.js";
import type { TranscriptFields } from "../../src/protocol/wire-transcript.js";
import { signClientAuth } from "../../src/transport/auth/client-auth.js";
import type { Signer } from "../../src/transport/auth/signer.js";
import { dialWebSocket } from "../../src/transport/dial-websocket.js";
import { parseServerAddress } from "../../src/transport/server-address.js";
import { wirePath } from "../../src/transport/wire-address.js";

/** An open raw connection and what the server sent so far. */
export interface RawWire {
  readonly socket: WebSocket;
  /** Every decoded server message, in order. */
  readonly received: ServerMessage[];
  /** Resolves with the close code and reason once the socket closed. */
  readonly closed: Promise<{ code: number; reason: string }>;
  /** Sends one message. */
  send(message: ClientMessage): void;
  /** Sends several messages in one write system call (one TCP segment on loopback). */
  sendTogether(messages: readonly ClientMessage[]): void;
  /** Resolves with the first received message of `type` (from the start) that `match` accepts. */
  next<T extends ServerMessage["type"]>(
    type: T,
    match?: (message: MessageOf<T>) => boolean,
    timeoutMs?: number,
  ): Promise<MessageOf<T>>;
  close(): void;
}

/** Opens `/wire` on `server` (ws:// or unix:) without saying anything yet. */
export async function openRawWire(server: string): Promise<RawWire> {
  const { socket, transport } = await dialWebSocket({
    address: parseServerAddress(server),
    path: wirePath,
    context: "raw wire",
    timeoutMs: 5000,
    maxPayload: 2 * 1024 * 1024,
  });
  return rawWireOf(socket, transport);
}

function rawWireOf(socket: WebSocket, transport: Socket): RawWire {
  const received: ServerMessage[] = [];
  const waiters = new Set<() => void>();
  socket.binaryType = "nodebuffer";
  socket.on("message", (data: Buffer) => {
    received.push(decodeServerMessage(decodeFrame(new Uint8Array(data))));
    for (const wake of waiters) wake();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.once("close", (code, reason) => {
      for (const wake of waiters) wake();
      resolve({ code, reason: reason.toString() });
    }),
  );
  return {
    socket,
    received,
    closed,
    send: (message) => socket.send(encodeMessage(message)),
    sendTogether(messages) {
      transport.cork();
      for (const message of messages) socket.send(encodeMessage(message));
      transport.uncork();
    },
    next(type, match = () => true, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = received.find(
            (message) => message.type === type && match(message as never),
          );
          if (found) {
            cleanup();
            resolve(found as never);
          } else if (socket.readyState === socket.CLOSED) {
            cleanup();
            reject(new Error(`closed before a ${type}; got ${describe(received)}`));
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`no ${type} within ${timeoutMs} ms; got ${describe(received)}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    close: () => socket.close(),
  };
}

function describe(messages: readonly ServerMessage[]): string {
  return messages.map((message) => message.type).join(", ") || "nothing";
}

/** The handshake so far: HELLO sent, CHALLENGE received, and the transcript to sign. */
export interface RawChallenge {
  readonly fields: TranscriptFields;
}

/** Sends HELLO (offering `openCredit` when given, as newer clients do) and waits for CHALLENGE. */
export async function rawHello(raw: RawWire, openCredit?: number): Promise<RawChallenge> {
  const clientNonce = randomBytes(32);
  raw.send({
    type: "hello",
    versions: { min: 1, max: 1 },
    clientNonce,
    agent: "raw-test",
    ...(openCredit === undefined ? {} : { openCredit }),
  });
  const challenge = await raw.next("challenge");
  return {
    fields: {
      serverId: challenge.serverId,
      sessionId: challenge.sessionId,
      nonce: challenge.nonce,
      clientNonce,
      channelBinding: new Uint8Array(0),
    },
  };
}

/** The AUTH message `signer` makes for this connection. */
export async function rawAuth(challenge: RawChallenge, signer: Signer): Promise<MessageOf<"auth">> {
  return { type: "auth", ...(await signClientAuth(signer, challenge.fields)) };
}
