// The share-fanout peer: the strongest broadcaster we could write on `ws` in a few dozen lines,
// with none of syncline's work (the publisher's HTTP calls answered by lib/share-peer-http.ts:
// no validation, secret or storage). Each update — the same JSON text syncline sends,
// `{"key":…,"content":…,"seq":…}` — is encoded once into a complete WebSocket text frame; the
// frames of one event-loop turn are joined into one batch; the batch goes to every viewer in one
// write, straight to its TCP socket; a socket with more than `bound` bytes unwritten is paused:
// its batches wait in a backlog of its own and are written, joined, when it drains.
// Reports its URL to the parent.

import type { Duplex } from "node:stream";
import { type WebSocket, WebSocketServer } from "ws";
import { serverTextFrame } from "../../src/share/encoded-frame.js";
import { roleChannel } from "../lib/child.js";
import { sharePeerHttp } from "../lib/share-peer-http.js";

/** Unwritten bytes past which a viewer's socket is paused until it drains. */
const bound = 1024 * 1024;

interface Viewer {
  readonly tcp: Duplex;
  /** Batches held while paused; undefined while writing directly. */
  backlog: Buffer[] | undefined;
}

const parent = roleChannel();
const viewers = new Map<WebSocket, Viewer>();
let batch: Buffer[] = [];

const http = sharePeerHttp((frame) => {
  batch.push(serverTextFrame(Buffer.from(JSON.stringify(frame))));
  if (batch.length === 1) setImmediate(flush);
});

function flush(): void {
  const bytes = batch.length === 1 ? (batch[0] as Buffer) : Buffer.concat(batch);
  batch = [];
  for (const viewer of viewers.values()) {
    if (viewer.backlog) viewer.backlog.push(bytes);
    else write(viewer, bytes);
  }
}

function write(viewer: Viewer, bytes: Buffer): void {
  viewer.tcp.write(bytes);
  if (viewer.tcp.writableLength <= bound) return;
  viewer.backlog = [];
  viewer.tcp.once("drain", () => {
    const held = viewer.backlog ?? [];
    viewer.backlog = undefined;
    if (held.length > 0) write(viewer, Buffer.concat(held));
  });
}

const wss = new WebSocketServer({ server: http, path: "/share_poll", perMessageDeflate: false });
wss.on("connection", (socket, request) => {
  viewers.set(socket, { tcp: request.socket, backlog: undefined });
  socket.on("close", () => viewers.delete(socket));
});

http.listen(0, "127.0.0.1", () => {
  const address = http.address();
  const port = typeof address === "object" && address ? address.port : 0;
  parent.send({ type: "ready", url: `http://127.0.0.1:${port}` });
});
