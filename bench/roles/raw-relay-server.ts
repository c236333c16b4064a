// The stream-throughput peer: a bare `ws` relay (bufferutil, no compression) that forwards every
// binary message from the client on /send to the client on /recv, pausing the sender while the
// receiver's socket buffer is full — the loopback limit for client → server → client.
// `--tls CERT KEY`: the same relay over HTTPS/WSS (node:https with Node's default TLS settings,
// as our server's TLS listener), for stream-throughput-wss.

import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { createServer as createTlsServer } from "node:https";
import { type WebSocket, WebSocketServer } from "ws";
import { roleChannel } from "../lib/child.js";

const highWater = 4 * 1024 * 1024;
const parent = roleChannel();
const tlsAt = process.argv.indexOf("--tls");
const tls =
  tlsAt === -1
    ? undefined
    : {
        cert: readFileSync(process.argv[tlsAt + 1] as string),
        key: readFileSync(process.argv[tlsAt + 2] as string),
      };
const http = tls ? createTlsServer(tls) : createServer();
const wss = new WebSocketServer({
  server: http,
  perMessageDeflate: false,
  maxPayload: 64 * 1024 * 1024,
});
let receiver: WebSocket | undefined;
let sender: WebSocket | undefined;

wss.on("connection", (socket, request) => {
  if (request.url === "/recv") {
    receiver = socket;
    parent.send({ type: "receiver-connected" });
    return;
  }
  sender = socket;
  socket.on("message", (data: Buffer) => {
    if (!receiver) return;
    receiver.send(data, () => {
      if (receiver && receiver.bufferedAmount < highWater) resume(sender);
    });
    if (receiver.bufferedAmount >= highWater) pause(sender);
  });
});

function pause(socket: WebSocket | undefined): void {
  (socket as unknown as { _socket?: { pause(): void } })?._socket?.pause();
}

function resume(socket: WebSocket | undefined): void {
  (socket as unknown as { _socket?: { resume(): void } })?._socket?.resume();
}

http.listen(0, "127.0.0.1", () => {
  const address = http.address();
  const port = typeof address === "object" && address ? address.port : 0;
  parent.send({ type: "ready", url: `${tls ? "wss" : "ws"}://127.0.0.1:${port}` });
});
