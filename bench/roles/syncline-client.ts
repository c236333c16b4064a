// A syncline client role for stream-throughput and send-recv-cli. `send <server> <key> [FILE]`
// publishes, for each "go" from the parent, a payload of the asked size on channel "bench"
// (answering "sent"): patterned bytes made in memory, or with FILE the first bytes of that file,
// read straight into the outgoing frames as `syncline send` reads. `recv <server> <key> [DIR]`
// follows the channel and reports "done" after each payload; with DIR it writes each payload to
// a new file there (deleted once reported), as `syncline recv -o` writes. One set of processes
// can so do a warm-up transfer and then the measured one. `--ca FILE`: trust FILE's certificate
// for a wss:// server (a self-signed one), as the CLI's `--ca` does.

import { readFileSync } from "node:fs";
import { open, rm } from "node:fs/promises";
import { join } from "node:path";
import { ChannelClient } from "../../src/channels/channel-client.js";
import { loadPrivateKey } from "../../src/transport/auth/private-key-file.js";
import { parseServerAddress } from "../../src/transport/server-address.js";
import { WireClient } from "../../src/transport/wire-client.js";
import { roleChannel } from "../lib/child.js";
import { patternBytes } from "../lib/pattern.js";

const caAt = process.argv.indexOf("--ca");
const ca = caAt === -1 ? undefined : readFileSync(process.argv[caAt + 1] as string);
const [mode, server, keyPath, path] = process.argv
  .slice(2)
  .filter((arg, i, args) => arg !== "--ca" && args[i - 1] !== "--ca");
const parent = roleChannel();
const signer = await loadPrivateKey(keyPath as string);
const client = new WireClient({
  address: parseServerAddress(server as string),
  signer,
  ...(ca ? { ca } : {}),
});
const channels = new ChannelClient(client, { origin: mode as string });
await client.whenOpen();

if (mode === "recv") {
  let received = 0;
  let files = 0;
  let file: { path: string; handle: Promise<import("node:fs/promises").FileHandle> } | undefined;
  const following = channels.receive("bench", {
    latest: false,
    accept: () => {
      if (path !== undefined) {
        const name = join(path, `received-${files++}.bin`);
        file = { path: name, handle: open(name, "wx", 0o600) };
      }
      return {
        async writeChunk(offset, bytes) {
          received += bytes.length;
          if (file) await (await file.handle).write(bytes, 0, bytes.length, offset);
        },
      };
    },
    until: async () => {
      if (file) {
        const handle = await file.handle;
        await handle.sync();
        await handle.close();
        await rm(file.path);
        file = undefined;
      }
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
  const input = path === undefined ? undefined : await open(path, "r");
  parent.send({ type: "ready" });
  parent.on("go", async (message) => {
    const bytes = Number(message.bytes);
    const started = Date.now();
    const read = async (offset: number, length: number) => patternBytes(offset, length);
    const readInto = input
      ? async (offset: number, into: Uint8Array) =>
          (await input.read(into, 0, into.length, offset)).bytesRead
      : undefined;
    await channels.send("bench", { size: bytes, read, ...(readInto ? { readInto } : {}) });
    parent.send({ type: "sent", bytes, started });
  });
}
