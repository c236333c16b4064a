// Attacks on channels, each against a real server on loopback with its bound asserted: uploads
// that try to make the server keep more than its limits (in parallel, or by leaving them
// interrupted), channel names that pile up in memory, one user reading or writing another's
// channels, and a receiver that stalls a relayed payload to hold its publisher. Last, the
// transport's metrics after a transfer and a refused key.

import { randomUUID } from "node:crypto";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ChannelClient } from "../../src/channels/channel-client.js";
import type { TestKey } from "../../src/transport/auth/testing/ssh-keygen.js";
import { generateTestKey } from "../../src/transport/auth/testing/ssh-keygen.js";
import type { WireClient } from "../../src/transport/wire-client.js";
import { httpGet } from "../helpers/http.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { createTempDir } from "../helpers/temp-dir.js";
import {
  clientFor,
  makeKeys,
  payloadOf,
  receiveOne,
  waitUntil,
  watchOffers,
} from "../helpers/transport.js";

const MiB = 1024 * 1024;

let dir: { path: string; remove: () => Promise<void> };
let keys: Record<string, TestKey>;
let authorizedKeys: string;

beforeAll(async () => {
  dir = await createTempDir("syncline-channel-attacks-");
  const made = makeKeys(dir.path, ["ed25519", "ecdsa-256"]);
  keys = made.keys;
  authorizedKeys = made.authorizedKeys;
});

afterAll(async () => {
  await dir.remove();
});

/** Teardown steps of the current test, run in reverse order. */
let cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const step of cleanups.reverse()) await step();
  cleanups = [];
});

async function server(overrides: Parameters<typeof startTestServer>[0] = {}): Promise<TestServer> {
  const started = await startTestServer({ authorizedKeys, ...overrides });
  cleanups.push(() => started.stop());
  return started;
}

async function client(target: TestServer, key: TestKey): Promise<WireClient> {
  const made = await clientFor(target.server.url, key);
  cleanups.push(() => made.close());
  await made.whenOpen();
  return made;
}

/** The value of one sample of `name` (with exactly these labels) on the server's /metrics. */
async function metric(
  target: TestServer,
  name: string,
  labels: Record<string, string> = {},
): Promise<number | undefined> {
  const text = (await httpGet(`${target.server.url}/metrics`)).body;
  const wanted = Object.entries(labels)
    .map(([key, value]) => `${key}="${value}"`)
    .join(",");
  const prefix = wanted === "" ? `${name} ` : `${name}{${wanted}} `;
  const line = text.split("\n").find((candidate) => candidate.startsWith(prefix));
  return line === undefined ? undefined : Number(line.slice(prefix.length));
}

/** Polls /metrics until `name` satisfies `wanted`; returns the last value seen. */
async function metricUntil(
  target: TestServer,
  name: string,
  labels: Record<string, string>,
  wanted: (value: number | undefined) => boolean,
  timeoutMs = 5000,
): Promise<number | undefined> {
  const deadline = Date.now() + timeoutMs;
  let value = await metric(target, name, labels);
  while (!wanted(value) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    value = await metric(target, name, labels);
  }
  return value;
}

/** Sum of the bytes the store holds under a prefix (the channels' kept payloads). */
async function storedBytes(target: TestServer, prefix: string[]): Promise<number> {
  let total = 0;
  for await (const entry of target.server.store.range(prefix)) total += entry.value.length;
  return total;
}

describe("the keep limits count announced sizes", () => {
  it("40 parallel 1 MiB uploads keep at most retain_total_bytes (4 MiB) and hold nothing in memory once done", async () => {
    const target = await server({ retainBytes: MiB, retainTotalBytes: 4 * MiB, spoolBytes: 0 });
    const sender = new ChannelClient(await client(target, keys.ed25519 as TestKey), {
      origin: "flood",
    });
    const receipts = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        sender.sendWithReceipt(`cap-${i}`, payloadOf(MiB).source),
      ),
    );
    // Four fit the cap; the others were relayed to nobody, and their senders are told so.
    expect(receipts.filter((receipt) => receipt.kept)).toHaveLength(4);
    for (const receipt of receipts.filter((r) => !r.kept)) expect(receipt.delivered).toBe(0);
    expect(await metric(target, "syncline_channel_kept_bytes", { where: "store" })).toBe(4 * MiB);
    expect(await storedBytes(target, ["channel-data"])).toBeLessThanOrEqual(4 * MiB);
    // Kept payloads are on disk, not in memory.
    expect(await metric(target, "syncline_channel_buffered_bytes")).toBe(0);
  });

  it("interrupted uploads keep their reservation until they expire, and their bytes are not held in memory", async () => {
    const target = await server({
      retainBytes: MiB,
      retainTotalBytes: 4 * MiB,
      spoolBytes: 0,
      resumeTtlMs: 1500,
    });
    // Six publishers each send half of a 1 MiB payload, then vanish without resuming.
    const stalled = await Promise.all(
      Array.from({ length: 6 }, async (_, i) => {
        const publisher = await clientFor(target.server.url, keys.ed25519 as TestKey);
        await publisher.whenOpen();
        const { source } = payloadOf(MiB);
        let halfway = false;
        const gated = {
          size: MiB,
          read: async (offset: number, length: number) => {
            if (offset >= MiB / 2) {
              halfway = true;
              await new Promise(() => {}); // never: the publisher disappears here
            }
            return source.read(offset, length);
          },
        };
        // 64 KiB chunks, so the publisher stops with half its payload sent.
        const sending = new ChannelClient(publisher, { origin: `p${i}` }).send(`half-${i}`, gated, {
          chunkSize: 64 * 1024,
        });
        sending.catch(() => {});
        await waitUntil(() => halfway, `publisher ${i} to send half its payload`);
        return publisher;
      }),
    );
    for (const publisher of stalled) publisher.close();
    expect(await metricUntil(target, "syncline_wire_connections", {}, (n) => n === 0)).toBe(0);
    // The first four reserved their announced size at OPEN, half-sent as they are.
    expect(await metric(target, "syncline_channel_kept_bytes", { where: "store" })).toBe(4 * MiB);
    expect(await metric(target, "syncline_channel_buffered_bytes")).toBeLessThan(MiB / 4);

    const late = new ChannelClient(await client(target, keys["ecdsa-256"] as TestKey), {
      origin: "late",
    });
    const refused = await late.sendWithReceipt("after-cap", payloadOf(MiB).source);
    expect(refused).toMatchObject({ kept: false, delivered: 0 });

    // Once the interrupted uploads expire, their reservations are released.
    const where = { where: "store" };
    expect(await metricUntil(target, "syncline_channel_kept_bytes", where, (n) => n === 0)).toBe(0);
    expect(await storedBytes(target, ["channel-data"])).toBe(0);
    const again = await late.sendWithReceipt("after-expiry", payloadOf(MiB).source);
    expect(again.kept).toBe(true);
  });

  it("an upload a restart left unfinished is counted after the restart and dropped, bytes deleted, when its publisher does not return", async () => {
    const target = await server({ retainBytes: MiB, resumeTtlMs: 1000 });
    const publisher = await clientFor(target.server.url, keys.ed25519 as TestKey);
    await publisher.whenOpen();
    const { source } = payloadOf(4 * MiB);
    let halfway = false;
    const gated = {
      size: 4 * MiB,
      read: async (offset: number, length: number) => {
        if (offset >= 2 * MiB) {
          halfway = true;
          await new Promise(() => {});
        }
        return source.read(offset, length);
      },
    };
    new ChannelClient(publisher, { origin: "gone" }).send("abandoned", gated).catch(() => {});
    await waitUntil(() => halfway, "the publisher to send half its payload");
    publisher.close();
    expect(await metricUntil(target, "syncline_wire_connections", {}, (n) => n === 0)).toBe(0);
    await target.restart();

    const spool = join(target.dataDir, "channel-spool");
    const where = { where: "spool" };
    expect(await metric(target, "syncline_channel_kept_bytes", where)).toBe(4 * MiB);
    expect(readdirSync(spool)).toHaveLength(1);
    expect(await metricUntil(target, "syncline_channel_kept_bytes", where, (n) => n === 0)).toBe(0);
    await waitUntil(() => readdirSync(spool).length === 0, "the spool file to be deleted");
    expect(await target.server.store.get(["channel-item", "-", "abandoned"])).toBeUndefined();
  });

  it("idle channels leave memory: names a subscriber made up are forgotten when it leaves; a kept payload is then served from the store", async () => {
    const target = await server();
    const { bytes, source } = payloadOf(300 * 1024);
    const publisher = await client(target, keys.ed25519 as TestKey);
    await new ChannelClient(publisher, { origin: "pub" }).send("stays", source);
    publisher.close();

    const flooder = await clientFor(target.server.url, keys["ecdsa-256"] as TestKey);
    const { connection } = await flooder.whenOpen();
    for (let i = 0; i < 500; i++) {
      connection.send({ type: "subscribe", channel: `made-up-${i}`, latest: true, follow: true });
    }
    const inMemory = "syncline_channel_channels";
    // (At least: the kept channel may still be there too for a moment.)
    expect(await metricUntil(target, inMemory, {}, (n) => (n ?? 0) >= 500)).toBeGreaterThanOrEqual(
      500,
    );
    flooder.close();
    expect(await metricUntil(target, inMemory, {}, (n) => n === 0)).toBe(0);

    const reader = new ChannelClient(await client(target, keys["ecdsa-256"] as TestKey), {
      origin: "reader",
    });
    expect((await receiveOne(reader, "stays")).bytes.equals(bytes)).toBe(true);
  });
});

describe("users", () => {
  let target: TestServer;
  let users: Record<"alice1" | "alice2" | "bob" | "carol" | "dave", TestKey>;

  beforeAll(async () => {
    const keyDir = `${dir.path}/users`;
    const { mkdirSync, writeFileSync } = await import("node:fs");
    mkdirSync(keyDir);
    users = {
      alice1: generateTestKey(keyDir, "ed25519", { name: "alice1" }),
      alice2: generateTestKey(keyDir, "ecdsa-256", { name: "alice2" }),
      bob: generateTestKey(keyDir, "ed25519", { name: "bob" }),
      carol: generateTestKey(keyDir, "ed25519", { name: "carol" }),
      dave: generateTestKey(keyDir, "ecdsa-256", { name: "dave" }),
    };
    const file = `${keyDir}/authorized_keys`;
    writeFileSync(
      file,
      [
        `syncline-user="alice" ${users.alice1.publicLine}`,
        `no-pty,syncline-user="alice" ${users.alice2.publicLine}`,
        `syncline-user="bob" ${users.bob.publicLine}`,
        users.carol.publicLine,
        users.dave.publicLine,
      ].join("\n"),
    );
    target = await startTestServer({ authorizedKeys: file });
  });

  afterAll(async () => {
    await target?.stop();
  });

  async function channelsOf(key: TestKey, origin: string): Promise<ChannelClient> {
    const made = await clientFor(target.server.url, key);
    cleanups.push(() => made.close());
    return new ChannelClient(made, { origin });
  }

  it("one user can neither read nor write another user's channels", async () => {
    const channel = `clip-${randomUUID()}`;
    const secret = payloadOf(2000);
    await (await channelsOf(users.alice1, "alice-laptop")).send(channel, secret.source);

    // bob and the default user see no payload on the same name.
    const bob = await channelsOf(users.bob, "bob-laptop");
    const carol = await channelsOf(users.carol, "carol-laptop");
    const watches = [watchOffers(bob, channel), watchOffers(carol, channel)];
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(watches.map((watch) => watch.offered())).toEqual([false, false]);

    // bob publishing on that name does not touch alice's channel.
    await bob.send(channel, payloadOf(999).source);
    const alice2 = await channelsOf(users.alice2, "alice-phone");
    const got = await receiveOne(alice2, channel);
    expect(got.bytes.equals(secret.bytes)).toBe(true);
    expect(got.incoming.origin).toBe("alice-laptop");
    // Kept apart in the store too.
    expect(await target.server.store.get(["channel-item", "alice", channel])).toBeDefined();
    expect(await target.server.store.get(["channel-item", "bob", channel])).toBeDefined();
  });

  it("keys without syncline-user form one default user that shares its channels, as a single-user server did", async () => {
    const channel = `shared-${randomUUID()}`;
    const { bytes, source } = payloadOf(5000);
    await (await channelsOf(users.carol, "carol-laptop")).send(channel, source);
    const got = await receiveOne(await channelsOf(users.dave, "dave-phone"), channel);
    expect(got.bytes.equals(bytes)).toBe(true);
  });
});

describe("a receiver that stalls a relayed payload", () => {
  it("is dropped after relay_stall_ms (ERR_STREAM_SLOW_READER) so the publisher and the other receivers go on", async () => {
    const target = await server({ retainBytes: 0, spoolBytes: 0, relayStallMs: 500 });
    const channel = "slow";
    const fast = new ChannelClient(await client(target, keys["ecdsa-256"] as TestKey), {
      origin: "fast",
    });
    const stalling = new ChannelClient(await client(target, keys["ecdsa-256"] as TestKey), {
      origin: "stalling",
    });
    const size = 16 * MiB;
    const fastReceived = receiveOne(fast, channel);
    let stalledAt = 0;
    const stalled = stalling
      .receive(channel, {
        latest: false,
        accept: () => ({
          async writeChunk(_offset, chunk) {
            stalledAt += chunk.length;
            if (stalledAt >= MiB) await new Promise(() => {}); // stops reading for good
          },
        }),
        until: () => true,
      })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    await new Promise((resolve) => setTimeout(resolve, 150)); // both followers in place
    const { bytes, source } = payloadOf(size);
    const publisher = new ChannelClient(await client(target, keys.ed25519 as TestKey), {
      origin: "publisher",
    });
    const receipt = await publisher.sendWithReceipt(channel, source);
    expect(receipt).toMatchObject({ delivered: 1, kept: false });
    expect((await fastReceived).bytes.equals(bytes)).toBe(true);
    expect(await stalled).toMatchObject({
      message: expect.stringContaining("ERR_STREAM_SLOW_READER"),
    });
    expect(await metric(target, "syncline_wire_slow_readers_total")).toBe(1);
  });
});

describe("transport metrics", () => {
  it("/metrics shows connections, bytes, transfers and a refused key by reason", async () => {
    const target = await server();
    const stranger = generateTestKey(dir.path, "ed25519", { name: "stranger" });
    const refused = await clientFor(target.server.url, stranger, { maxAttempts: 1 });
    await expect(refused.whenOpen()).rejects.toMatchObject({ code: "ERR_AUTH_NOT_AUTHORIZED" });

    const receiver = new ChannelClient(await client(target, keys["ecdsa-256"] as TestKey), {
      origin: "b",
    });
    const received = receiveOne(receiver, "measured");
    await new Promise((resolve) => setTimeout(resolve, 100));
    const sender = new ChannelClient(await client(target, keys.ed25519 as TestKey), {
      origin: "a",
    });
    await sender.send("measured", payloadOf(200 * 1024).source);
    await received;

    expect(await metric(target, "syncline_wire_connections")).toBe(2);
    expect(
      await metric(target, "syncline_wire_auth_failures_total", {
        reason: "ERR_AUTH_NOT_AUTHORIZED",
      }),
    ).toBe(1);
    expect(await metric(target, "syncline_wire_bytes_total", { direction: "in" })).toBeGreaterThan(
      200 * 1024,
    );
    expect(await metric(target, "syncline_wire_bytes_total", { direction: "out" })).toBeGreaterThan(
      200 * 1024,
    );
    for (const kind of ["upload", "delivery"]) {
      for (const event of ["started", "completed"]) {
        expect(await metric(target, "syncline_wire_transfers_total", { kind, event })).toBe(1);
      }
      expect(
        (await metric(target, "syncline_wire_transfers_total", { kind, event: "failed" })) ?? 0,
      ).toBe(0);
    }
    expect(await metric(target, "syncline_wire_slow_readers_total")).toBe(0);
  });
});
