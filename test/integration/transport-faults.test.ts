// Network failures between clients and a real server, injected by the fault proxy: a cut on the
// sender's leg and on the receiver's leg in the middle of a transfer (both resume without
// re-sending), a subscriber cut while its publisher stalls, a publisher back before the server
// noticed it left, a failing source, a black hole caught by the heartbeat, a server restart
// ridden out with growing backoff, and giving up after `maxAttempts` against a refusing port.

import { createHash } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { ChannelClient, type PayloadSink } from "../../src/channels/channel-client.js";
import type { TestKey } from "../../src/transport/auth/testing/ssh-keygen.js";
import { defaultStreamWindow } from "../../src/transport/stream/stream-receiver.js";
import type { WireClient, WireClientOptions } from "../../src/transport/wire-client.js";
import { type FaultProxy, startFaultProxy } from "../helpers/fault-proxy.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { createTempDir } from "../helpers/temp-dir.js";
import {
  clientFor,
  makeKeys,
  payloadOf,
  receiveOne,
  recordStates,
  type TimedStateChange,
  waitUntil,
} from "../helpers/transport.js";

const MiB = 1024 * 1024;
/**
 * Bytes a cut may make travel twice: those in flight when it lands, which never reached the
 * receiver — at most the credit window — plus framing and slack. Nothing the receiver held is
 * sent again (each test also checks the sink got every byte exactly once where it can).
 */
const resendBound = defaultStreamWindow + MiB;

let dir: { path: string; remove: () => Promise<void> };
let keys: Record<string, TestKey>;
let authorizedKeys: string;

beforeAll(async () => {
  dir = await createTempDir("syncline-faults-");
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
  vi.restoreAllMocks();
});

async function server(overrides: Parameters<typeof startTestServer>[0] = {}): Promise<TestServer> {
  const started = await startTestServer({ authorizedKeys, ...overrides });
  cleanups.push(() => started.stop());
  return started;
}

async function proxyTo(target: TestServer): Promise<FaultProxy> {
  const proxy = await startFaultProxy({ target: { host: "127.0.0.1", port: target.server.port } });
  cleanups.push(() => proxy.close());
  return proxy;
}

function directUrl(target: TestServer): string {
  return target.server.url;
}

async function client(
  url: string,
  key: TestKey,
  options: Partial<WireClientOptions> = {},
): Promise<WireClient> {
  const made = await clientFor(url, key, options);
  cleanups.push(() => made.close());
  return made;
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

/** The transitions into `to`, in order. */
function into(log: readonly TimedStateChange[], to: TimedStateChange["to"]): TimedStateChange[] {
  return log.filter((change) => change.to === to);
}

/** A sink that stores bytes positionally and logs every write, to prove each byte came once. */
function loggingSink(size: number): PayloadSink & {
  bytes: Buffer;
  writes: { offset: number; length: number }[];
} {
  const bytes = Buffer.alloc(size);
  const writes: { offset: number; length: number }[] = [];
  return {
    bytes,
    writes,
    async writeChunk(offset, chunk) {
      bytes.set(chunk, offset);
      writes.push({ offset, length: chunk.length });
    },
  };
}

describe("a connection cut mid-transfer", () => {
  // Kept in the store, kept in the spool (bigger than --retain-bytes), and relayed (no spool):
  // the server keeps no hash state across the resume of a relayed one, and the receiver's
  // end-to-end SHA-256 check is the only one.
  for (const [kind, overrides] of [
    ["a retained payload", {}],
    ["a spooled payload", { retainBytes: MiB }],
    ["a relayed payload", { retainBytes: MiB, spoolBytes: 0 }],
  ] as const) {
    it(`resumes the sender's upload of ${kind} from what the server holds, re-sending almost nothing`, async () => {
      const target = await server(overrides);
      const proxy = await proxyTo(target);
      const senderWire = await client(proxy.url("ws", ""), keys.ed25519 as TestKey);
      const receiverWire = await client(directUrl(target), keys["ecdsa-256"] as TestKey);
      await Promise.all([senderWire.whenOpen(), receiverWire.whenOpen()]);
      const states = recordStates(senderWire);
      const sender = new ChannelClient(senderWire, { origin: "laptop" });
      const receiver = new ChannelClient(receiverWire, { origin: "desktop" });

      const size = 20 * MiB;
      const { bytes, source } = payloadOf(size);
      const received = receiveOne(receiver, "faults-up");
      // A relayed payload goes only to subscribers there when it starts.
      await new Promise((resolve) => setTimeout(resolve, 150));
      const upBefore = proxy.bytesForwarded.up;
      // The handshake is behind us: the cut counts OPEN and DATA only, and lands 6 MiB in.
      proxy.cutAfter(6 * MiB, "up");
      // The first progress report of the stream opened after the reconnect.
      let firstResumed: number | undefined;
      const sha = await sender.send("faults-up", source, {
        onProgress: (sent) => {
          if (firstResumed === undefined && into(states, "open").length > 0) firstResumed = sent;
        },
      });
      const got = await received;

      expect(got.bytes.equals(bytes)).toBe(true);
      expect(got.written).toBe(size);
      expect(hex(sha)).toBe(sha256Hex(bytes));
      // The connection really died and came back: open → reconnecting → connecting → open.
      expect(into(states, "reconnecting")).toHaveLength(1);
      expect(senderWire.state).toBe("open");
      expect(states.map((change) => change.to)).toEqual(["reconnecting", "connecting", "open"]);
      // The second stream started where the server stood, not at 0: its first progress report is
      // well past the start, and only a window's worth of bytes went up twice.
      expect(firstResumed).toBeGreaterThan(4 * MiB);
      const carried = proxy.bytesForwarded.up - upBefore;
      expect(carried).toBeGreaterThanOrEqual(size);
      expect(carried).toBeLessThan(size + resendBound);
    });
  }

  it("resumes when the cut lands while the sender waits on a slow source", async () => {
    const target = await server();
    const proxy = await proxyTo(target);
    const senderWire = await client(proxy.url("ws", ""), keys.ed25519 as TestKey);
    const receiverWire = await client(directUrl(target), keys["ecdsa-256"] as TestKey);
    await Promise.all([senderWire.whenOpen(), receiverWire.whenOpen()]);
    const sender = new ChannelClient(senderWire, { origin: "laptop" });
    const receiver = new ChannelClient(receiverWire, { origin: "desktop" });

    // Every read takes a few ms, like a disk: the sender spends its time waiting on the source,
    // so the connection dies during a read rather than while waiting for credit.
    const size = 3 * MiB;
    const { bytes, source } = payloadOf(size);
    const slow = {
      size,
      read: async (offset: number, length: number) => {
        await new Promise((resolve) => setTimeout(resolve, 3));
        return source.read(offset, length);
      },
    };
    const received = receiveOne(receiver, "faults-slow-source");
    const states = recordStates(senderWire);
    proxy.cutAfter(MiB, "up");
    // Resolves (rather than failing with ERR_STREAM_CANCELLED) only if the loss is seen as one.
    const sha = await sender.send("faults-slow-source", slow);
    const got = await received;
    expect(into(states, "reconnecting")).toHaveLength(1);
    expect(got.bytes.equals(bytes)).toBe(true);
    expect(hex(sha)).toBe(sha256Hex(bytes));
  });

  it("resumes a receiver's download from its own offset, writing each byte once", async () => {
    const target = await server();
    const proxy = await proxyTo(target);
    const senderWire = await client(directUrl(target), keys.ed25519 as TestKey);
    const receiverWire = await client(proxy.url("ws", ""), keys["ecdsa-256"] as TestKey);
    await Promise.all([senderWire.whenOpen(), receiverWire.whenOpen()]);
    const states = recordStates(receiverWire);
    const sender = new ChannelClient(senderWire, { origin: "laptop" });
    const receiver = new ChannelClient(receiverWire, { origin: "desktop" });

    const size = 20 * MiB + 321; // retained by the server (≤ 64 MiB), so a resume can read it
    const { bytes, source } = payloadOf(size);
    const sinks: ReturnType<typeof loggingSink>[] = [];
    let sha256: Uint8Array | undefined;
    const receiving = receiver.receive("faults-down", {
      latest: true,
      accept: (incoming) => {
        const sink = loggingSink(incoming.size);
        sinks.push(sink);
        return sink;
      },
      until: (done) => {
        sha256 = done.sha256;
        return true;
      },
    });
    const downBefore = proxy.bytesForwarded.down;
    proxy.cutAfter(6 * MiB, "down");
    const sent = await sender.send("faults-down", source);
    await receiving;

    // One sink for the whole payload: the resumed stream reused it rather than starting over.
    expect(sinks).toHaveLength(1);
    const sink = sinks[0] as ReturnType<typeof loggingSink>;
    expect(sink.bytes.equals(bytes)).toBe(true);
    // Each byte written exactly once: the writes tile [0, size) in order with no overlap.
    let next = 0;
    for (const write of sink.writes) {
      expect(write.offset).toBe(next);
      next += write.length;
    }
    expect(next).toBe(size);
    expect(sink.writes.reduce((sum, write) => sum + write.length, 0)).toBe(size);
    expect(hex(sha256 ?? new Uint8Array())).toBe(sha256Hex(bytes));
    expect(hex(sent)).toBe(sha256Hex(bytes));
    expect(into(states, "reconnecting")).toHaveLength(1);
    const carried = proxy.bytesForwarded.down - downBefore;
    expect(carried).toBeGreaterThanOrEqual(size);
    expect(carried).toBeLessThan(size + resendBound);
  });
});

describe("a subscriber cut while its delivery waits for a stalled publisher", () => {
  it("keeps the server up and resumes the delivery once the publisher goes on", async () => {
    // The server's delivery is parked in a read of bytes the publisher has not sent yet when the
    // subscriber's connection dies; that must end the delivery quietly, not as an unhandled
    // rejection (which would kill a real server process).
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    cleanups.push(() => {
      process.off("unhandledRejection", onUnhandled);
    });
    const target = await server();
    const proxy = await proxyTo(target);
    const senderWire = await client(directUrl(target), keys.ed25519 as TestKey);
    const receiverWire = await client(proxy.url("ws", ""), keys["ecdsa-256"] as TestKey);
    await Promise.all([senderWire.whenOpen(), receiverWire.whenOpen()]);
    const sender = new ChannelClient(senderWire, { origin: "laptop" });
    const receiver = new ChannelClient(receiverWire, { origin: "desktop" });

    const size = 4 * MiB;
    const { bytes, source } = payloadOf(size);
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const stalling = {
      size,
      read: async (offset: number, length: number) => {
        if (offset >= MiB) await gate;
        return source.read(offset, length);
      },
    };
    const sink = loggingSink(size);
    let progress = 0;
    const receiving = receiver.receive("faults-stalled", {
      latest: true,
      accept: () => sink,
      until: () => true,
      onProgress: (_incoming, at) => {
        progress = at;
      },
    });
    const sending = sender.send("faults-stalled", stalling);
    await waitUntil(() => progress >= MiB, "the subscriber to catch up with the stalled publisher");
    const states = recordStates(receiverWire);
    expect(proxy.cutAll()).toBe(1);
    await waitUntil(() => into(states, "open").length > 0, "the subscriber to reconnect");
    release();
    const sha = await sending;
    await receiving;

    expect(unhandled).toEqual([]);
    expect(sink.bytes.equals(bytes)).toBe(true);
    expect(sink.writes.reduce((sum, write) => sum + write.length, 0)).toBe(size);
    expect(hex(sha)).toBe(sha256Hex(bytes));
  });
});

describe("a publisher whose source fails mid-upload", () => {
  it("cancels the payload for its subscriber without an unhandled rejection on the server", async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    cleanups.push(() => {
      process.off("unhandledRejection", onUnhandled);
    });
    const target = await server();
    const senderWire = await client(directUrl(target), keys.ed25519 as TestKey);
    const receiverWire = await client(directUrl(target), keys["ecdsa-256"] as TestKey);
    await Promise.all([senderWire.whenOpen(), receiverWire.whenOpen()]);
    const sender = new ChannelClient(senderWire, { origin: "laptop" });
    const receiver = new ChannelClient(receiverWire, { origin: "desktop" });

    const size = 2 * MiB;
    const { source } = payloadOf(size);
    // The file shrank under us: reads past 1 MiB come back empty.
    const shrinking = {
      size,
      read: async (offset: number, length: number) =>
        offset >= MiB ? new Uint8Array(0) : source.read(offset, length),
    };
    let accepted = 0;
    let warmedUp = false;
    const receiving = receiver.receive("faults-source", {
      latest: true,
      accept: (incoming) => {
        accepted++;
        return loggingSink(incoming.size);
      },
      until: () => {
        warmedUp = true;
        return false; // keep following
      },
    });
    // A first small payload proves the subscription is in place before the failing one.
    await sender.send("faults-source", payloadOf(10).source);
    await waitUntil(() => warmedUp, "the warm-up payload");
    await expect(sender.send("faults-source", shrinking)).rejects.toMatchObject({
      code: "ERR_STREAM_SOURCE",
    });
    await expect(receiving).rejects.toMatchObject({ code: "ERR_STREAM_CANCELLED" });
    expect(accepted).toBe(2);
    // Give a stray rejection a few turns to surface, then check the server still serves.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(unhandled).toEqual([]);
    const { bytes, source: good } = payloadOf(1000);
    await sender.send("faults-source-after", good);
    expect((await receiveOne(receiver, "faults-source-after")).bytes.equals(bytes)).toBe(true);
  });
});

describe("a publisher that returns before the server noticed it was gone", () => {
  it("resumes the upload from the old stream's bytes instead of starting over", async () => {
    // The client's deadline (1 s + 1 s) passes long before the server's (1 s + 8 s), as when a
    // laptop wakes up: the resume's OPEN arrives while the server still runs the old stream.
    const target = await server({ heartbeatMs: 1000, heartbeatGraceMs: 8000 });
    const proxy = await proxyTo(target);
    const senderWire = await client(proxy.url("ws", ""), keys.ed25519 as TestKey, {
      graceMs: 1000,
      handshakeTimeoutMs: 2000,
    });
    const receiverWire = await client(directUrl(target), keys["ecdsa-256"] as TestKey);
    await Promise.all([senderWire.whenOpen(), receiverWire.whenOpen()]);
    const states = recordStates(senderWire);
    // The network comes back as soon as the client has given up on the dark connection.
    senderWire.on("state", (change) => {
      if (change.to === "reconnecting") proxy.blackhole(false);
    });
    const sender = new ChannelClient(senderWire, { origin: "laptop" });
    const receiver = new ChannelClient(receiverWire, { origin: "desktop" });

    const size = 20 * MiB;
    const { bytes, source } = payloadOf(size);
    const received = receiveOne(receiver, "faults-early-return");
    const upBefore = proxy.bytesForwarded.up;
    let darkened = false;
    const sha = await sender.send("faults-early-return", source, {
      onProgress: (sent) => {
        if (!darkened && sent >= 5 * MiB) {
          darkened = true;
          proxy.blackhole(true);
        }
      },
    });
    const got = await received;

    expect(darkened).toBe(true);
    expect(into(states, "reconnecting").length).toBeGreaterThanOrEqual(1);
    expect(got.bytes.equals(bytes)).toBe(true);
    expect(hex(sha)).toBe(sha256Hex(bytes));
    const carried = proxy.bytesForwarded.up - upBefore;
    expect(carried).toBeLessThan(size + resendBound);
  });
});

describe("health monitoring and reconnection", () => {
  it("notices a black hole within ping period + grace, then reconnects once it lifts", async () => {
    const heartbeatMs = 1000;
    const graceMs = 1000;
    const target = await server({ heartbeatMs, heartbeatGraceMs: graceMs });
    const proxy = await proxyTo(target);
    const wire = await client(proxy.url("ws", ""), keys.ed25519 as TestKey, {
      graceMs,
      handshakeTimeoutMs: 1000,
    });
    const first = await wire.whenOpen();
    expect(first.heartbeatMs).toBe(heartbeatMs);
    const states = recordStates(wire);

    const darkAt = Date.now();
    proxy.blackhole(true);
    await waitUntil(() => wire.state !== "open", "the client to notice the black hole", 10_000);
    const noticed = (into(states, "reconnecting")[0] as TimedStateChange).at - darkAt;
    // The last ping came at most one period before the dark; the deadline is period + grace
    // after it, checked every 250 ms. So not at once (TCP is still up), and not much later.
    expect(noticed).toBeGreaterThanOrEqual(heartbeatMs / 2);
    expect(noticed).toBeLessThan(heartbeatMs + graceMs + 2500);
    expect(wire.current).toBeUndefined();

    // While dark, attempts time out in the handshake and are retried.
    await waitUntil(
      () => into(states, "reconnecting").length >= 2,
      "a reconnect attempt to time out in the black hole",
    );
    expect(into(states, "open")).toHaveLength(0);

    proxy.blackhole(false);
    await waitUntil(() => wire.state === "open", "the client to reconnect", 10_000);
    const again = await wire.whenOpen();
    expect(again.connection).not.toBe(first.connection);
    expect(again.serverFingerprint).toBe(first.serverFingerprint);
  });

  it("rides out a server restart with growing backoff delays and reconnects", async () => {
    // Jitter pinned at one half so the doubling shows; each delay is within its ceiling anyway.
    vi.spyOn(Math, "random").mockReturnValue(0.5);
    const target = await server();
    const initialMs = 100;
    const wire = await client(directUrl(target), keys.ed25519 as TestKey, {
      backoff: { initialMs, maxMs: 3200, factor: 2 },
    });
    const first = await wire.whenOpen();
    const states = recordStates(wire);
    const port = target.server.port;

    await target.halt();
    await waitUntil(
      () => into(states, "reconnecting").length >= 5,
      "five reconnect attempts while the server is down",
    );
    await target.restart();
    await waitUntil(() => wire.state === "open", "the client to reconnect to the restarted server");

    const lost = into(states, "reconnecting");
    // The first loss is the server's graceful close, the rest are refused connects.
    expect((lost[0] as TimedStateChange).reason).toMatch(/\b1001\b/);
    for (const change of lost.slice(1)) expect(change.reason).toMatch(/cannot connect/);
    const delays = lost.map((change) => Number(/retrying in (\d+) ms/.exec(change.reason)?.[1]));
    delays.forEach((delay, attempt) => {
      expect(delay).toBeLessThanOrEqual(Math.min(3200, initialMs * 2 ** attempt));
    });
    expect(delays.slice(0, 5)).toEqual([50, 100, 200, 400, 800]);
    // Each retry waited its delay: from `reconnecting` to the next `connecting`.
    states.forEach((change, i) => {
      const retry = states[i + 1];
      if (change.to !== "reconnecting") return;
      expect(retry?.to).toBe("connecting");
      const delay = Number(/retrying in (\d+) ms/.exec(change.reason)?.[1]);
      // (A timer counts from the event loop's cached clock, a little behind Date.now().)
      expect((retry as TimedStateChange).at - change.at).toBeGreaterThanOrEqual(delay - 20);
    });
    const again = await wire.whenOpen();
    // Same data dir, so the same host key: a pinned client would accept the restarted server.
    expect(again.serverFingerprint).toBe(first.serverFingerprint);
    expect(target.server.port).toBe(port);
  });

  it("gives up with ERR_CONNECT after maxAttempts refused connects", async () => {
    const target = await server();
    const proxy = await proxyTo(target);
    await proxy.refuse();
    const wire = await client(proxy.url("ws", ""), keys.ed25519 as TestKey, {
      maxAttempts: 3,
      backoff: { initialMs: 20, maxMs: 100 },
    });
    const states = recordStates(wire);
    const error = await wire.whenOpen().then(
      () => undefined,
      (failure: unknown) => failure,
    );
    expect(error).toMatchObject({
      code: "ERR_CONNECT",
      message: expect.stringContaining("gave up after 3 attempts"),
      cause: { code: "ERR_CONNECT" },
    });
    expect(wire.state).toBe("closed");
    expect(wire.failure).toBe(error);
    // Three attempts: the first, then two retries; then closed, with no retry pending.
    expect(states.map((change) => change.to)).toEqual([
      "reconnecting",
      "connecting",
      "reconnecting",
      "connecting",
      "closed",
    ]);
    await expect(wire.whenOpen()).rejects.toBe(error);
    await proxy.refuse(false);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(wire.state).toBe("closed");
    expect(proxy.connections).toBe(0);
  });
});
