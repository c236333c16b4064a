// Keeping a channel's latest payload durably is beside the delivery path, not in front of it: a
// receiver waiting on the channel gets the bytes as they arrive, however slow the disk, while the
// sender's ACK (which says "kept") waits until the copy is durable.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChannelClient } from "../../src/channels/channel-client.js";
import { createMemoryStore } from "../../src/storage/memory-store.js";
import type { Store } from "../../src/storage/store.js";
import type { TestKey } from "../../src/transport/auth/testing/ssh-keygen.js";
import type { WireClient } from "../../src/transport/wire-client.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { createTempDir } from "../helpers/temp-dir.js";
import { clientFor, makeKeys, payloadOf, receiveOne } from "../helpers/transport.js";

const MiB = 1024 * 1024;
/** How long the slow disk takes for each write of a payload's bytes. */
const writeDelayMs = 400;

/** A store whose writes of channel payload bytes each take `writeDelayMs`. */
function slowDisk(store: Store): Store {
  return {
    get: (key) => store.get(key),
    range: (prefix, options) => store.range(prefix, options),
    deletePrefix: (prefix) => store.deletePrefix(prefix),
    close: () => store.close(),
    status: () => store.status(),
    async write(ops) {
      if (ops.some((op) => op.key[0] === "channel-data")) {
        await new Promise((resolve) => setTimeout(resolve, writeDelayMs));
      }
      return store.write(ops);
    },
  };
}

let dir: { path: string; remove: () => Promise<void> };
let keys: Record<string, TestKey>;
let server: TestServer;
const clients: WireClient[] = [];

beforeAll(async () => {
  dir = await createTempDir("syncline-channel-keeping-");
  const made = makeKeys(dir.path, ["ed25519", "ecdsa-256"]);
  keys = made.keys;
  server = await startTestServer(
    { authorizedKeys: made.authorizedKeys },
    { store: slowDisk(createMemoryStore()) },
  );
});

afterAll(async () => {
  for (const client of clients) client.close();
  await server?.stop();
  await dir?.remove();
});

async function channels(key: TestKey, origin: string): Promise<ChannelClient> {
  const client = await clientFor(server.server.url, key);
  clients.push(client);
  await client.whenOpen();
  return new ChannelClient(client, { origin });
}

describe("keeping a payload on a slow disk", () => {
  it("a waiting receiver gets it as it arrives; the sender's ACK waits for the disk and says kept", async () => {
    const receiver = await channels(keys["ecdsa-256"] as TestKey, "desktop");
    const sender = await channels(keys.ed25519 as TestKey, "laptop");
    const { bytes, source } = payloadOf(3 * MiB);
    let receivedAt = 0;
    const received = receiveOne(receiver, "slow-disk").then((got) => {
      receivedAt = Date.now();
      return got;
    });
    await new Promise((resolve) => setTimeout(resolve, 150)); // the follower is in place
    const receipt = await sender.sendWithReceipt("slow-disk", source);
    const ackedAt = Date.now();
    expect((await received).bytes.equals(bytes)).toBe(true);
    expect(receipt).toMatchObject({ delivered: 1, kept: true });
    // Three pieces of 1 MiB, each a slow write: the receiver was done long before.
    expect(receivedAt).toBeGreaterThan(0);
    expect(ackedAt - receivedAt).toBeGreaterThan(writeDelayMs);
  });
});
