// Channels across two nodes on the production pair: a real Postgres as the shared store (its
// conditional writes guard the records) and a real Redis as the bus. A payload sent on either
// node reaches the follower on the other byte for byte, and a restart of Redis (news lost while
// it is down) is caught up from the database.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Bus } from "../../src/bus/bus.js";
import { openRedisBus } from "../../src/bus/redis-bus.js";
import { ChannelClient } from "../../src/channels/channel-client.js";
import { openPostgresStore } from "../../src/storage/postgres-store.js";
import type { Store } from "../../src/storage/store.js";
import type { TestKey } from "../../src/transport/auth/testing/ssh-keygen.js";
import type { WireClient } from "../../src/transport/wire-client.js";
import { startWireNode, type WireNode } from "../helpers/channel-nodes.js";
import {
  postgresMissing,
  startTestPostgres,
  type TestPostgres,
} from "../helpers/postgres-server.js";
import { redisMissing, startRedis, type TestRedis } from "../helpers/redis-server.js";
import { createTempDir } from "../helpers/temp-dir.js";
import { clientFor, makeKeys, payloadOf, receiveOne } from "../helpers/transport.js";

const MiB = 1024 * 1024;
const suite = "channels across nodes on Postgres and Redis";
const missing = postgresMissing(suite) ?? redisMissing;
if (redisMissing && process.env.CI) {
  describe(suite, () => {
    it("has redis-server (required under CI=true)", () => {
      throw new Error(redisMissing);
    });
  });
}

describe.skipIf(missing !== undefined)(suite, () => {
  let dir: { path: string; remove: () => Promise<void> };
  let keys: Record<string, TestKey>;
  let postgres: TestPostgres;
  let redis: TestRedis;
  const stores: Store[] = [];
  const buses: Bus[] = [];
  const nodes: WireNode[] = [];
  const clients: WireClient[] = [];

  beforeAll(async () => {
    dir = await createTempDir("syncline-channel-nodes-redis-");
    const made = makeKeys(dir.path, ["ed25519", "ecdsa-256"]);
    keys = made.keys;
    postgres = await startTestPostgres();
    redis = await startRedis();
    const url = await postgres.createDatabase();
    for (let i = 0; i < 2; i++) {
      const store = await openPostgresStore({ url });
      stores.push(store);
      const bus = await openRedisBus({ url: redis.url, connectTimeoutMs: 2000, heartbeatMs: 200 });
      buses.push(bus);
      nodes.push(await startWireNode(store, bus, { authorizedKeys: made.authorizedKeys }));
    }
  }, 60_000);

  afterAll(async () => {
    for (const client of clients) client.close();
    await Promise.all(nodes.map((node) => node.stop()));
    await Promise.all(buses.map((bus) => bus.close()));
    await Promise.all(stores.map((store) => store.close()));
    await redis?.stop();
    await postgres?.remove();
    await dir?.remove();
  });

  async function device(node: number, role: "sender" | "receiver"): Promise<ChannelClient> {
    const key = (role === "sender" ? keys.ed25519 : keys["ecdsa-256"]) as TestKey;
    const wire = await clientFor((nodes[node] as WireNode).url, key);
    clients.push(wire);
    await wire.whenOpen();
    return new ChannelClient(wire, { origin: role });
  }

  const settle = () => new Promise((resolve) => setTimeout(resolve, 150));

  it("a payload sent on either node reaches the follower on the other", async () => {
    for (const [from, to] of [
      [0, 1],
      [1, 0],
    ] as const) {
      const receiver = await device(to, "receiver");
      const sender = await device(from, "sender");
      const channel = `pg-${from}-${to}`;
      const received = receiveOne(receiver, channel);
      await settle();
      const { bytes, source } = payloadOf(6 * MiB + 1);
      expect((await sender.sendWithReceipt(channel, source)).kept).toBe(true);
      expect((await received).bytes.equals(bytes)).toBe(true);
    }
  });

  it("news lost while Redis restarts is caught up from the database", async () => {
    const receiver = await device(1, "receiver");
    const sender = await device(0, "sender");
    const received = receiveOne(receiver, "pg-outage");
    await settle();
    await redis.stop();
    const { bytes, source } = payloadOf(2 * MiB);
    // The bus is down: the upload does not fail for it.
    expect((await sender.sendWithReceipt("pg-outage", source)).kept).toBe(true);
    await redis.restart();
    expect((await received).bytes.equals(bytes)).toBe(true);
  }, 30_000);
});
