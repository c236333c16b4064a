// A client role for the raw relay. `send <url> <chunk>` pushes a patterned payload of the asked
// size in chunks, as fast as the socket takes them, for each "go" from the parent; `recv <url>`
// counts bytes and reports "done" each time the size announced by the parent's "expect" arrived.

import { WebSocket } from "ws";
import { roleChannel } from "../lib/child.js";
import { patternBytes } from "../lib/pattern.js";

const [mode, url, chunkArg] = process.argv.slice(2);
const parent = roleChannel();
const maxBuffered = 4 * 1024 * 1024;

if (mode === "recv") {
  const socket = new WebSocket(`${url}/recv`, {
    perMessageDeflate: false,
    maxPayload: 64 * 1024 * 1024,
  });
  // Bytes are counted from the end of the previous payload, not from the parent's "expect": the
  // first bytes of a payload can arrive before that IPC message does, and must still count.
  let expected = Number.POSITIVE_INFINITY;
  let received = 0;
  const reportIfDone = () => {
    if (received < expected) return;
    parent.send({ type: "done", bytes: expected, at: Date.now() });
    received -= expected;
    expected = Number.POSITIVE_INFINITY;
  };
  parent.on("expect", (message) => {
    expected = Number(message.bytes);
    reportIfDone();
  });
  socket.on("open", () => parent.send({ type: "ready" }));
  socket.on("message", (data: Buffer) => {
    received += data.length;
    reportIfDone();
  });
} else {
  const chunkSize = Number(chunkArg);
  const socket = new WebSocket(`${url}/send`, { perMessageDeflate: false });
  socket.on("open", () => parent.send({ type: "ready" }));
  parent.on("go", (message) => {
    const total = Number(message.bytes);
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
