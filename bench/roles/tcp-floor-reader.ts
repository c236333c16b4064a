// The tcp-floor reader: `<port> <count>` opens `count` plain TCP connections to the writer on
// loopback and reads whatever arrives (counting bytes, nothing else); reports "ready".

import { connect } from "node:net";
import { roleChannel } from "../lib/child.js";

const [port, countArg] = process.argv.slice(2) as [string, string];
const parent = roleChannel();
let bytes = 0;
let connected = 0;
for (let i = 0; i < Number(countArg); i++) {
  const socket = connect(Number(port), "127.0.0.1", () => {
    if (++connected === Number(countArg)) parent.send({ type: "ready" });
  });
  socket.setNoDelay(true);
  socket.on("data", (chunk: Buffer) => {
    bytes += chunk.length;
  });
}
parent.on("bytes?", () => parent.send({ type: "bytes", bytes }));
