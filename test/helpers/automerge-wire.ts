// A raw automerge-repo protocol client on `ws`, for wire-level tests: send any frame, read the
// decoded replies, see how the socket closed, and drive Automerge sync by hand.

import type { Socket } from "node:net";
import * as A from "@automerge/automerge";
import { WebSocket } from "ws";
import {
  type DecodedRepoMessage,
  decodeRepoMessage,
  encodeRepoMessage,
  type RepoMessage,
} from "../../src/protocol/automerge-messages.js";

/** A connected raw client. */
export interface WireClient {
  readonly socket: WebSocket;
  readonly received: DecodedRepoMessage[];
  /** Resolves with the close code once the socket closed. */
  readonly closed: Promise<number>;
  send(message: RepoMessage): void;
  sendRaw(frame: Uint8Array): void;
  /** Waits for the first received message (from the start) that `match` accepts. */
  next(
    match: (message: DecodedRepoMessage) => boolean,
    timeoutMs?: number,
  ): Promise<DecodedRepoMessage>;
  /** Sends join and waits for peer. */
  join(peerId: string): Promise<DecodedRepoMessage>;
  /**
   * Stops reading from the TCP socket (a peer that does not read: the kernel's buffers fill,
   * then the server's), or starts again; sending still works.
   */
  pauseReading(): void;
  resumeReading(): void;
  close(): void;
}

/** Opens a raw client; rejects if the upgrade fails (e.g. HTTP 401). */
export function openWireClient(
  url: string,
  options: { autoPong?: boolean } = {},
): Promise<WireClient> {
  const socket = new WebSocket(url, options);
  let raw: Socket | undefined;
  socket.once("upgrade", (response) => {
    raw = response.socket as Socket;
  });
  const received: DecodedRepoMessage[] = [];
  const waiters = new Set<() => void>();
  socket.on("message", (data: Buffer) => {
    received.push(decodeRepoMessage(new Uint8Array(data)));
    for (const wake of waiters) wake();
  });
  const closed = new Promise<number>((resolve) => socket.once("close", (code) => resolve(code)));
  const client: WireClient = {
    socket,
    received,
    closed,
    send: (message) => socket.send(encodeRepoMessage(message)),
    sendRaw: (frame) => socket.send(frame),
    next(match, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = received.find(match);
          if (!found) return;
          cleanup();
          resolve(found);
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`no matching message; got ${received.map((m) => m.type).join(", ")}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    async join(peerId) {
      client.send({
        type: "join",
        senderId: peerId,
        peerMetadata: { isEphemeral: true },
        supportedProtocolVersions: ["1"],
      });
      return client.next((m) => m.type === "peer");
    },
    pauseReading: () => raw?.pause(),
    resumeReading: () => raw?.resume(),
    close: () => socket.close(),
  };
  return new Promise((resolve, reject) => {
    socket.once("open", () => resolve(client));
    socket.once("unexpected-response", (_request, response) => {
      reject(
        Object.assign(new Error(`HTTP ${response.statusCode}`), { status: response.statusCode }),
      );
    });
    socket.once("error", reject);
  });
}

/**
 * Syncs `doc` with the server over `client` until the server acknowledges `doc`'s heads (its
 * sync reply names them as its own heads); returns the server's replies.
 */
export async function syncUntilAcknowledged(
  client: WireClient,
  peerId: string,
  documentId: string,
  doc: A.Doc<unknown>,
): Promise<void> {
  let state = A.initSyncState();
  const want = A.getHeads(doc);
  let seen = 0;
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const [next, data] = A.generateSyncMessage(doc, state);
    state = next;
    if (data) client.send({ type: "sync", senderId: peerId, targetId: "server", documentId, data });
    await new Promise((resolve) => setTimeout(resolve, 20));
    for (const message of client.received.slice(seen)) {
      if (message.type !== "sync" || message.documentId !== documentId) continue;
      const heads = A.decodeSyncMessage(message.data).heads;
      [doc, state] = A.receiveSyncMessage(doc, state, message.data);
      if (want.every((hash) => heads.includes(hash))) return;
    }
    seen = client.received.length;
  }
  throw new Error(`the server never acknowledged heads ${want.join(",")}`);
}
