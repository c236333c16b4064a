// A syncline client role for stream-throughput. `send <server> <key>` publishes a patterned
// payload of the asked size on channel "bench" for each "go" from the parent (answering "sent");
// `recv <server> <key>` follows the channel and reports "done" after each payload, so one set of
// processes can do a warm-up transfer and then the measured one.

import { ChannelClient } from "../../src/channels/channel-client.js";
import { loadPrivateKey } from "../../src/transport/auth/private-key-file.js";
import { parseServerAddress } from "../../src/transport/server-address.js";
import { WireClient } from "../../src/transport/wire-client.js";
import { roleChannel } from "../lib/child.js";
import { patternBytes } from "../lib/pattern.js";

const [mode, server, keyPath] = process.argv.slice(2);
const parent = roleChannel();
const signer = await loadPrivateKey(keyPath as string);
const client = new WireClient({ address: parseServerAddress(server as string), signer });
const channels = new ChannelClient(client, { origin: mode as string });
await client.whenOpen();

if (mode === "recv") {
  let received = 0;
  const following = channels.receive("bench", {
    latest: false,
    accept: () => ({
      async writeChunk(_offset, bytes) {
        received += bytes.length;
      },
    }),
    until: () => {
      parent.send({ type: "done", bytes: received, at: Date.now() });
      received = 0;
      return false;
    },
  });
  following.catch((error: unknown) => {
    process.stderr.write(`bench receiver: ${String(error)}\n`);
    process.exit(1);
  });
  // The subscription is sent as soon as receive() starts; give it a moment to reach the server.
  setTimeout(() => parent.send({ type: "ready" }), 200);
} else {
  parent.send({ type: "ready" });
  parent.on("go", async (message) => {
    const bytes = Number(message.bytes);
    const started = Date.now();
    const read = async (offset: number, length: number) => patternBytes(offset, length);
    await channels.send("bench", { size: bytes, read });
    parent.send({ type: "sent", bytes, started });
  });
}
