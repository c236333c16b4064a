// The peers of attack-memory, each in its own process, speaking raw automerge-repo frames (as an
// attacker would) to either server:
// - `flooder URL`: creates a document (a real sync exchange, so that both servers hold it),
//   reports `ready {documentId}`; on `go {messages, bytes}` sends that many ephemeral messages
//   of that size, as fast as its socket takes them, then has a change acknowledged (both servers
//   handle a socket's frames in order) and reports `flooded`.
// - `stalled URL DOCUMENT`: joins, asks for the document and waits for the server's sync, then
//   stops reading its TCP socket, answering with unsolicited pongs every 100 ms (liveness that
//   both servers' keepalives accept); reports `ready`, and `closed {code}` if the server closes it.

import type { Socket } from "node:net";
import * as A from "@automerge/automerge";
import { Encoder } from "cbor-x";
import { WebSocket } from "ws";
import {
  type DecodedRepoMessage,
  decodeRepoMessage,
  encodeRepoMessage,
  type RepoMessage,
} from "../../src/protocol/automerge-messages.js";
import { generateDocumentId } from "../../src/util/ids.js";
import { roleChannel } from "../lib/child.js";

const [mode, url, documentArg] = process.argv.slice(2);
const parent = roleChannel();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A joined raw peer: its socket, what it received, and its TCP socket (to stop reading). */
async function joinAs(peerId: string) {
  const socket = new WebSocket(url as string);
  let raw: Socket | undefined;
  socket.once("upgrade", (response) => {
    raw = response.socket as Socket;
  });
  const received: DecodedRepoMessage[] = [];
  socket.on("message", (data: Buffer) => received.push(decodeRepoMessage(new Uint8Array(data))));
  await new Promise((resolve, reject) => {
    socket.once("open", resolve);
    socket.once("error", reject);
  });
  const send = (message: RepoMessage) => socket.send(encodeRepoMessage(message));
  send({ type: "join", senderId: peerId, peerMetadata: {}, supportedProtocolVersions: ["1"] });
  await until(() => received.some((m) => m.type === "peer"));
  const serverId = received.find((m) => m.type === "peer")?.senderId ?? "server";
  return { socket, received, send, serverId, raw: () => raw as Socket };
}

async function until(check: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${mode}: timed out`);
    await sleep(10);
  }
}

/** Syncs `doc` until the server's sync names its heads; returns the synced document. */
async function pushUntilAcknowledged(
  peer: Awaited<ReturnType<typeof joinAs>>,
  documentId: string,
  start: A.Doc<{ n: number }>,
): Promise<A.Doc<{ n: number }>> {
  let doc = start;
  let state = A.initSyncState();
  let seen = peer.received.length;
  const want = A.getHeads(doc);
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const [next, data] = A.generateSyncMessage(doc, state);
    state = next;
    if (data) {
      peer.send({ type: "sync", senderId: "flooder", targetId: peer.serverId, documentId, data });
    }
    await sleep(20);
    for (const message of peer.received.slice(seen)) {
      if (message.type !== "sync" || message.documentId !== documentId) continue;
      [doc, state] = A.receiveSyncMessage(doc, state, message.data);
      if (want.every((hash) => A.decodeSyncMessage(message.data).heads.includes(hash))) return doc;
    }
    seen = peer.received.length;
  }
  throw new Error("flooder: the server never acknowledged the change");
}

async function flooder(): Promise<void> {
  const peer = await joinAs("flooder");
  const documentId = generateDocumentId();
  let doc = await pushUntilAcknowledged(peer, documentId, A.from({ n: 0 }));
  parent.on("go", async (message) => {
    const bytes = Number(message.bytes);
    // The payload is CBOR (the reference decodes it): one byte string of `bytes`.
    const data = new Encoder({ tagUint8Array: false }).encode(new Uint8Array(bytes));
    const started = Date.now();
    for (let count = 1; count <= Number(message.messages); count++) {
      const frame = { type: "ephemeral" as const, senderId: "flooder", documentId, data };
      peer.send({ ...frame, targetId: peer.serverId, count, sessionId: "flood" });
      // As fast as the server takes them, without holding this process's event loop.
      while (peer.socket.bufferedAmount > 2 * bytes) await sleep(5);
    }
    doc = A.change(doc, (d) => {
      d.n += 1;
    });
    doc = await pushUntilAcknowledged(peer, documentId, doc);
    parent.send({ type: "flooded", seconds: (Date.now() - started) / 1000 });
  });
  parent.send({ type: "ready", documentId });
}

async function stalled(): Promise<void> {
  const peer = await joinAs("stalled");
  const documentId = documentArg as string;
  const [, data] = A.generateSyncMessage(A.init(), A.initSyncState());
  peer.send({
    type: "request",
    senderId: "stalled",
    targetId: peer.serverId,
    documentId,
    data: data as Uint8Array,
  });
  await until(() => peer.received.some((m) => m.type === "sync" && m.documentId === documentId));
  peer.raw().pause();
  setInterval(() => peer.socket.pong(), 100);
  peer.socket.once("close", (code) => parent.send({ type: "closed", code }));
  parent.send({ type: "ready" });
}

if (mode === "flooder") await flooder();
else await stalled();
