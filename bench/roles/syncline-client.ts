// A syncline client role for stream-throughput: `send <server> <key> <bytes>` publishes the
// patterned payload on channel "bench"; `recv <server> <key> <bytes>` receives it, counting bytes.

import { ChannelClient } from "../../src/channels/channel-client.js";
import { loadPrivateKey } from "../../src/transport/auth/private-key-file.js";
import { wireUrlOf } from "../../src/transport/wire-address.js";
import { WireClient } from "../../src/transport/wire-client.js";
import { roleChannel } from "../lib/child.js";
import { patternBytes } from "../lib/pattern.js";

const [mode, server, keyPath, totalArg] = process.argv.slice(2);
const total = Number(totalArg);
const parent = roleChannel();
const signer = await loadPrivateKey(keyPath as string);
const client = new WireClient({ url: wireUrlOf(server as string), signer });
const channels = new ChannelClient(client, { origin: mode as string });
await client.whenOpen();

if (mode === "recv") {
  let received = 0;
  const done = channels.receive("bench", {
    latest: false,
    accept: () => ({
      async writeChunk(_offset, bytes) {
        received += bytes.length;
      },
    }),
    until: () => true,
  });
  // The subscription is sent as soon as receive() starts; give it a moment to reach the server.
  setTimeout(() => parent.send({ type: "ready" }), 200);
  await done;
  parent.send({ type: "done", bytes: received, at: Date.now() });
  client.close();
} else {
  parent.send({ type: "ready" });
  parent.on("go", async () => {
    const started = Date.now();
    const read = async (offset: number, length: number) => patternBytes(offset, length);
    await channels.send("bench", { size: total, read });
    parent.send({ type: "sent", bytes: total, started });
    client.close();
  });
}
