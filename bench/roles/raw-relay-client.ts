// A client role for the raw relay: `send <url> <bytes> <chunk>` pushes the patterned payload in
// chunks as fast as the socket takes them; `recv <url> <bytes>` counts bytes until all arrived.

import { WebSocket } from "ws";
import { roleChannel } from "../lib/child.js";
import { patternBytes } from "../lib/pattern.js";

const [mode, url, totalArg, chunkArg] = process.argv.slice(2);
const total = Number(totalArg);
const parent = roleChannel();
const maxBuffered = 4 * 1024 * 1024;

if (mode === "recv") {
  const socket = new WebSocket(`${url}/recv`, {
    perMessageDeflate: false,
    maxPayload: 64 * 1024 * 1024,
  });
  let received = 0;
  socket.on("open", () => parent.send({ type: "ready" }));
  socket.on("message", (data: Buffer) => {
    received += data.length;
    if (received >= total) {
      parent.send({ type: "done", bytes: received, at: Date.now() });
      socket.close();
    }
  });
} else {
  const chunkSize = Number(chunkArg);
  const socket = new WebSocket(`${url}/send`, { perMessageDeflate: false });
  socket.on("open", () => parent.send({ type: "ready" }));
  parent.on("go", () => {
    const started = Date.now();
    let sent = 0;
    const pump = () => {
      while (sent < total) {
        const length = Math.min(chunkSize, total - sent);
        const chunk = patternBytes(sent, length);
        sent += length;
        if (socket.bufferedAmount > maxBuffered) {
          socket.send(chunk, pump);
          return;
        }
        socket.send(chunk);
      }
      parent.send({ type: "sent", bytes: sent, started });
    };
    pump();
  });
}
