// Channels across several nodes: two nodes' /wire endpoints over one store and one memory-bus
// network. A payload sent on node A reaches a follower on node B byte for byte and a receiver
// that comes to B later; B reads it from the shared store at its receiver's pace (nothing held
// for a slow one, and a receiver's resume works there too); a payload above `retainBytes` (which
// one node would spool) is kept in the store for B too; one relayed only stays on its node; and
// after a bus outage B catches up from the store.

import { createHash } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createMemoryBusNetwork, type MemoryBusNetwork } from "../../src/bus/memory-bus.js";
import { ChannelClient, type PayloadSink } from "../../src/channels/channel-client.js";
import type { ServerConfig } from "../../src/server/config.js";
import { createMemoryStore } from "../../src/storage/memory-store.js";
import type { Store } from "../../src/storage/store.js";
import type { TestKey } from "../../src/transport/auth/testing/ssh-keygen.js";
import type { WireClient } from "../../src/transport/wire-client.js";
import { startWireNode, type WireNode } from "../helpers/channel-nodes.js";
import { startFaultProxy } from "../helpers/fault-proxy.js";
import { createTempDir } from "../helpers/temp-dir.js";
import {
  clientFor,
  makeKeys,
  memorySink,
  payloadOf,
  receiveOne,
  recordStates,
  waitUntil,
} from "../helpers/transport.js";

const MiB = 1024 * 1024;

let dir: { path: string; remove: () => Promise<void> };
let keys: Record<string, TestKey>;
let authorizedKeys: string;

beforeAll(async () => {
  dir = await createTempDir("syncline-channel-nodes-");
  const made = makeKeys(dir.path, ["ed25519", "ecdsa-256"]);
  keys = made.keys;
  authorizedKeys = made.authorizedKeys;
});

afterAll(async () => {
  await dir.remove();
});

let cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const step of cleanups.reverse()) await step();
  cleanups = [];
});

interface Cluster {
  readonly a: WireNode;
  readonly b: WireNode;
  readonly network: MemoryBusNetwork;
  readonly store: Store;
}

/** Two nodes over one memory store and one bus network. */
async function cluster(overrides: Partial<ServerConfig> = {}): Promise<Cluster> {
  const store = createMemoryStore();
  const network = createMemoryBusNetwork();
  const settings = { authorizedKeys, ...overrides };
  const a = await startWireNode(store, network.connect(), settings);
  cleanups.push(() => a.stop());
  const b = await startWireNode(store, network.connect(), settings);
  cleanups.push(() => b.stop());
  return { a, b, network, store };
}

/** A channel client of `url`: the sender's device or the receiver's (their own keys). */
async function device(url: string, role: "sender" | "receiver"): Promise<ChannelClient> {
  return (await deviceWire(url, role)).channels;
}

async function deviceWire(url: string, role: "sender" | "receiver") {
  const key = (role === "sender" ? keys.ed25519 : keys["ecdsa-256"]) as TestKey;
  const wire = await clientFor(url, key);
  cleanups.push(() => wire.close());
  await wire.whenOpen();
  return { wire, channels: new ChannelClient(wire, { origin: role }) };
}

/** How many times `wire` reconnected from now on. */
function reconnects(wire: WireClient): () => number {
  const log = recordStates(wire);
  return () => log.filter((change) => change.to === "reconnecting").length;
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Lets the follower's SUBSCRIBE reach its node before a payload is sent. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 100));

describe("channels across two nodes", () => {
  it("a payload sent on A reaches a follower on B, byte for byte", async () => {
    const { a, b } = await cluster();
    const receiver = await device(b.url, "receiver");
    const sender = await device(a.url, "sender");
    const received = receiveOne(receiver, "clip");
    await settle();
    const { bytes, source } = payloadOf(5 * MiB + 123);
    const receipt = await sender.sendWithReceipt("clip", source);
    const got = await received;
    expect(got.bytes.equals(bytes)).toBe(true);
    expect(got.incoming.origin).toBe("sender");
    // Kept in the shared store; `delivered` counts the receivers of A only.
    expect(receipt).toMatchObject({ kept: true });
    expect(Buffer.from(receipt.sha256).toString("hex")).toBe(sha256(bytes));
  });

  it("a receiver that comes to B later gets the channel's latest", async () => {
    const { a, b } = await cluster();
    const sender = await device(a.url, "sender");
    const first = payloadOf(2 * MiB);
    const second = payloadOf(3 * MiB + 7);
    await sender.send("later", first.source);
    await sender.send("later", second.source);
    const receiver = await device(b.url, "receiver");
    const got = await receiveOne(receiver, "later");
    expect(got.bytes.equals(second.bytes)).toBe(true);
  });

  it("payloads sent on both nodes reach followers on both; the last one is the latest", async () => {
    // A replaced payload's bytes stay `relayStallMs` for receivers on other nodes: short here.
    const { a, b, store } = await cluster({ relayStallMs: 300 });
    const follow = async (url: string) => {
      const receiver = await device(url, "receiver");
      const got: Buffer[] = [];
      const done = receiver.receive("both", {
        latest: true,
        accept: (incoming) => {
          const sink = memorySink(incoming.size);
          got.push(sink.bytes);
          return sink;
        },
        until: () => got.length === 2,
      });
      return { got, done };
    };
    const onA = await follow(a.url);
    const onB = await follow(b.url);
    await settle();
    const first = payloadOf(2 * MiB);
    const second = payloadOf(3 * MiB);
    await (await device(a.url, "sender")).send("both", first.source);
    await (await device(b.url, "sender")).send("both", second.source);
    await Promise.all([onA.done, onB.done]);
    for (const { got } of [onA, onB]) {
      expect(got.map((bytes) => bytes.length)).toEqual([2 * MiB, 3 * MiB]);
      expect(got[0]?.equals(first.bytes)).toBe(true);
      expect(got[1]?.equals(second.bytes)).toBe(true);
    }
    const later = await device(a.url, "receiver");
    expect((await receiveOne(later, "both")).bytes.equals(second.bytes)).toBe(true);
    // Each node counts the one payload the channel keeps: the first one's room is free again.
    for (const node of [a, b]) {
      let kept = 0;
      const counted = () => node.keptBytes("store").then((bytes) => (kept = bytes));
      await counted();
      const polling = setInterval(() => void counted(), 20);
      await waitUntil(() => kept === 3 * MiB, "the count of kept bytes").finally(() =>
        clearInterval(polling),
      );
    }
    // The first one's bytes are deleted, and nothing is left marked for deletion.
    let copies = new Set<string>();
    let trash = 1;
    const look = async () => {
      copies = new Set();
      for await (const entry of store.range(["channel-data"])) copies.add(String(entry.key[3]));
      trash = 0;
      for await (const _ of store.range(["channel-trash"])) trash++;
    };
    await look();
    const looking = setInterval(() => void look(), 20);
    await waitUntil(() => copies.size === 1 && trash === 0, "the first payload's deletion").finally(
      () => clearInterval(looking),
    );
  });

  it("a slow receiver on B holds nothing in memory there, nor the sender on A", async () => {
    const { a, b } = await cluster();
    const receiver = await device(b.url, "receiver");
    const sender = await device(a.url, "sender");
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let sink: (PayloadSink & { bytes: Buffer }) | undefined;
    let done = false;
    void receiver.receive("slow", {
      latest: true,
      accept: (incoming) => {
        const into = memorySink(incoming.size);
        // Takes the first chunk, then reads nothing until released.
        let first = true;
        sink = {
          bytes: into.bytes,
          async writeChunk(offset, chunk) {
            if (!first) await released;
            first = false;
            await into.writeChunk(offset, chunk);
          },
        };
        return sink;
      },
      until: () => {
        done = true;
        return true;
      },
    });
    await settle();
    const { bytes, source } = payloadOf(24 * MiB);
    let peak = 0;
    const sampling = setInterval(() => {
      void b.gauge("bufferedBytes").then((held) => {
        peak = Math.max(peak, held);
      });
    }, 10);
    cleanups.push(() => clearInterval(sampling));
    // The sender's upload ends while B's receiver is stalled: it never held it back.
    const receipt = await sender.sendWithReceipt("slow", source);
    expect(receipt.kept).toBe(true);
    expect(done).toBe(false);
    expect(peak).toBe(0);
    expect(await b.gauge("bufferedBytes")).toBe(0);
    release();
    await waitUntil(() => done, "the slow receiver to finish");
    expect(sink?.bytes.equals(bytes)).toBe(true);
  });

  it("a receiver on B cut mid-payload resumes from its own offset there", async () => {
    const { a, b } = await cluster();
    const proxy = await startFaultProxy({ target: { host: "127.0.0.1", port: b.port } });
    cleanups.push(() => proxy.close());
    const { wire, channels: receiver } = await deviceWire(proxy.url("http", ""), "receiver");
    const cuts = reconnects(wire);
    const sender = await device(a.url, "sender");
    const { bytes, source } = payloadOf(12 * MiB + 5);
    const sinks: ReturnType<typeof memorySink>[] = [];
    const receiving = receiver.receive("cut", {
      latest: true,
      accept: (incoming) => {
        const sink = memorySink(incoming.size);
        sinks.push(sink);
        return sink;
      },
      until: () => true,
    });
    await settle();
    proxy.cutAfter(4 * MiB, "down");
    await sender.send("cut", source);
    await receiving;
    // One sink: the reconnected receiver resumed the same payload from what it held (each byte
    // written once) rather than starting over.
    expect(cuts()).toBe(1);
    expect(sinks).toHaveLength(1);
    const sink = sinks[0] as ReturnType<typeof memorySink>;
    expect(sink.bytes.equals(bytes)).toBe(true);
    expect(sink.written).toBe(bytes.length);
  });

  it("a sender cut mid-payload resumes on its node; B's follower gets every byte", async () => {
    const { a, b } = await cluster();
    const proxy = await startFaultProxy({ target: { host: "127.0.0.1", port: a.port } });
    cleanups.push(() => proxy.close());
    const receiver = await device(b.url, "receiver");
    const { wire, channels: sender } = await deviceWire(proxy.url("http", ""), "sender");
    const cuts = reconnects(wire);
    const received = receiveOne(receiver, "resume-up");
    await settle();
    const { bytes, source } = payloadOf(12 * MiB + 9);
    proxy.cutAfter(5 * MiB, "up");
    const receipt = await sender.sendWithReceipt("resume-up", source);
    expect(cuts()).toBe(1);
    expect(receipt.kept).toBe(true);
    expect((await received).bytes.equals(bytes)).toBe(true);
    // The resume re-sent at most what was in flight, not the payload again.
    expect(proxy.bytesForwarded.up).toBeLessThan(bytes.length + 6 * MiB);
  });

  it("a payload one node would spool is kept in the shared store, counted as spooled", async () => {
    const { a, b } = await cluster({ retainBytes: MiB, spoolBytes: 64 * MiB });
    const receiver = await device(b.url, "receiver");
    const sender = await device(a.url, "sender");
    const received = receiveOne(receiver, "big");
    await settle();
    const { bytes, source } = payloadOf(6 * MiB);
    const receipt = await sender.sendWithReceipt("big", source);
    expect(receipt.kept).toBe(true);
    expect((await received).bytes.equals(bytes)).toBe(true);
    expect(await a.keptBytes("spool")).toBe(6 * MiB);
    expect(await a.keptBytes("store")).toBe(0);
    // B counts what A keeps against its own limits too, having heard of it.
    expect(await b.keptBytes("spool")).toBe(6 * MiB);
    const later = await device(b.url, "receiver");
    expect((await receiveOne(later, "big")).bytes.equals(bytes)).toBe(true);
  });

  it("a payload relayed only (too big to keep) reaches its own node's receivers only", async () => {
    const { a, b } = await cluster({ retainBytes: MiB, spoolBytes: 0 });
    const onB = await device(b.url, "receiver");
    const sender = await device(a.url, "sender");
    let offered = false;
    void onB.receive("relay", {
      latest: true,
      accept: () => {
        offered = true;
        return undefined;
      },
      until: () => true,
    });
    await settle();
    // Nobody on A: the receipt says clearly that nobody got it (`syncline send` exits 10).
    const receipt = await sender.sendWithReceipt("relay", payloadOf(2 * MiB).source);
    expect(receipt).toMatchObject({ delivered: 0, kept: false });
    await settle();
    expect(offered).toBe(false);
  });

  it("after a bus outage B catches up from the store", async () => {
    const { a, b, network } = await cluster();
    const receiver = await device(b.url, "receiver");
    const sender = await device(a.url, "sender");
    const received = receiveOne(receiver, "outage");
    await settle();
    network.setOnline(false);
    const { bytes, source } = payloadOf(3 * MiB);
    // The bus refuses A's news: the upload does not fail for it.
    const receipt = await sender.sendWithReceipt("outage", source);
    expect(receipt.kept).toBe(true);
    await settle();
    let got = false;
    void received.then(() => {
      got = true;
    });
    await settle();
    expect(got).toBe(false);
    network.setOnline(true);
    expect((await received).bytes.equals(bytes)).toBe(true);
  });

  it("an outage in the middle of a payload: B's follower still gets all of it", async () => {
    const { a, b, network } = await cluster({ resumeTtlMs: 2000 });
    const receiver = await device(b.url, "receiver");
    const sender = await device(a.url, "sender");
    const received = receiveOne(receiver, "mid");
    await settle();
    const { bytes, source } = payloadOf(8 * MiB);
    let cut = false;
    const sending = sender.send("mid", source, {
      onProgress: (sent) => {
        // Once the news of the payload went out, the rest of its news is lost.
        if (!cut && sent >= 2 * MiB) {
          cut = true;
          network.setOnline(false);
        }
      },
    });
    await sending;
    // Still offline: B reads the progress from the store by itself.
    expect((await received).bytes.equals(bytes)).toBe(true);
    network.setOnline(true);
  });
});
