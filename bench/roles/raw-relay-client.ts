// A client role for the raw relay. `send <url> <chunk>` pushes a patterned payload of the asked
// size in chunks, as fast as the socket takes them, for each "go" from the parent; `recv <url>`
// counts bytes and reports "done" each time the size announced by the parent's "expect" arrived.
// With `--sha256` both ends also hash every byte (the sender as it sends, the receiver as it
// counts): the raw relay plus the two SHA-256 passes an end-to-end checked transfer cannot skip.
// `--ca FILE`: trust FILE's certificate for a wss:// relay (a self-signed one).

import { createHash, type Hash } from "node:crypto";
import { readFileSync } from "node:fs";
import { WebSocket } from "ws";
import { maskOptionsFor } from "../../src/transport/frame-masking.js";
import { parseServerAddress } from "../../src/transport/server-address.js";
import { roleChannel } from "../lib/child.js";
import { patternBytes } from "../lib/pattern.js";

const caAt = process.argv.indexOf("--ca");
const tls = caAt === -1 ? {} : { ca: readFileSync(process.argv[caAt + 1] as string) };
const [mode, url, chunkArg] = process.argv
  .slice(2)
  .filter((arg, i, args) => arg !== "--sha256" && arg !== "--ca" && args[i - 1] !== "--ca");
const hashing = process.argv.includes("--sha256");
const parent = roleChannel();
const maxBuffered = 4 * 1024 * 1024;

if (mode === "recv") {
  const socket = new WebSocket(`${url}/recv`, {
    perMessageDeflate: false,
    maxPayload: 64 * 1024 * 1024,
    ...tls,
  });
  // Bytes are counted from the end of the previous payload, not from the parent's "expect": the
  // first bytes of a payload can arrive before that IPC message does, and must still count.
  let expected = Number.POSITIVE_INFINITY;
  let received = 0;
  let hash: Hash | undefined = hashing ? createHash("sha256") : undefined;
  const reportIfDone = () => {
    if (received < expected) return;
    if (hash) {
      hash.digest();
      hash = createHash("sha256");
    }
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
    hash?.update(data);
    reportIfDone();
  });
} else {
  const chunkSize = Number(chunkArg);
  // The same masking as our client's (a zero key on loopback), so the peer is as fast as it can be.
  const socket = new WebSocket(`${url}/send`, {
    perMessageDeflate: false,
    ...maskOptionsFor(parseServerAddress(url as string)),
    ...tls,
  });
  socket.on("open", () => parent.send({ type: "ready" }));
  parent.on("go", (message) => {
    const total = Number(message.bytes);
    const started = Date.now();
    let sent = 0;
    const hash = hashing ? createHash("sha256") : undefined;
    const pump = () => {
      while (sent < total) {
        const length = Math.min(chunkSize, total - sent);
        const chunk = patternBytes(sent, length);
        hash?.update(chunk);
        sent += length;
        if (socket.bufferedAmount > maxBuffered) {
          socket.send(chunk, pump);
          return;
        }
        socket.send(chunk);
      }
      hash?.digest();
      parent.send({ type: "sent", bytes: sent, started });
    };
    pump();
  });
}
