// The share-fanout loopback limit: the publisher's HTTP calls answered without validation,
// secret or storage (lib/share-peer-http.ts), and each frame — the same JSON text syncline
// sends, `{"key":…,"content":…,"seq":…}` — broadcast as one string with a plain loop of
// `socket.send` to every WebSocket connected on /share_poll (`ws`, perMessageDeflate off, no
// slow-viewer bound). `cork` as the first argument: the frame is encoded to a Buffer once and
// every socket is corked for the loop and uncorked on the next tick (what syncline's fan-out
// does), so a burst leaves in one write per socket instead of one write per frame per socket.
// Reports its URL to the parent.

import type { Duplex } from "node:stream";
import { type WebSocket, WebSocketServer } from "ws";
import { roleChannel } from "../lib/child.js";
import { sharePeerHttp } from "../lib/share-peer-http.js";

const cork = process.argv[2] === "cork";
const parent = roleChannel();
const viewers = new Set<WebSocket>();
const tcp = (socket: WebSocket) => (socket as unknown as { _socket: Duplex })._socket;
const textFrame = { binary: false } as const;
let uncorkScheduled = false;

const http = sharePeerHttp((frame) => {
  const text = JSON.stringify(frame);
  if (!cork) {
    for (const socket of viewers) socket.send(text);
    return;
  }
  const bytes = Buffer.from(text);
  const scheduleUncork = !uncorkScheduled;
  for (const socket of viewers) {
    if (scheduleUncork) tcp(socket).cork();
    socket.send(bytes, textFrame);
  }
  if (scheduleUncork) {
    uncorkScheduled = true;
    process.nextTick(() => {
      uncorkScheduled = false;
      for (const socket of viewers) {
        const raw = tcp(socket);
        if (raw.writableCorked > 0) raw.uncork();
      }
    });
  }
});
const wss = new WebSocketServer({ server: http, path: "/share_poll", perMessageDeflate: false });
wss.on("connection", (socket) => {
  viewers.add(socket);
  socket.on("close", () => viewers.delete(socket));
});

http.listen(0, "127.0.0.1", () => {
  const address = http.address();
  const port = typeof address === "object" && address ? address.port : 0;
  parent.send({ type: "ready", url: `http://127.0.0.1:${port}` });
});
