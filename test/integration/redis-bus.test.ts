// The Redis bus against a real redis-server (one per file; each test on its own key prefix):
// the shared conformance suite, then faults: Redis stopped and restarted, a dead network that
// sends no FIN, an unreachable Redis at open, and envelopes this release cannot read.
// Needs redis-server: fails under CI=true without it, skipped otherwise.

import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Bus, BusErrorContext } from "../../src/bus/bus.js";
import { openRedisBus, type RedisBusOptions } from "../../src/bus/redis-bus.js";
import { runBusTests } from "../../src/bus/testing/run-bus-tests.js";
import { type FaultProxy, startFaultProxy } from "../helpers/fault-proxy.js";
import { freePort } from "../helpers/free-port.js";
import { redisMissing, startRedis, type TestRedis } from "../helpers/redis-server.js";

if (redisMissing !== undefined && process.env.CI) {
  describe("redis bus", () => {
    it("has a redis-server to run against (required under CI=true)", () => {
      throw new Error(`redis bus test under CI=true: ${redisMissing}`);
    });
  });
}

/** Polls `condition` every 10 ms; fails after `ms`. */
async function waitUntil(what: string, condition: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`waited ${ms} ms for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const codeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: { code?: string }) => error.code,
  );

const text = (payload: Uint8Array) => Buffer.from(payload).toString();

describe.skipIf(redisMissing !== undefined)("redis bus", () => {
  let redis: TestRedis;
  let prefixes = 0;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  runBusTests("redis", async () => {
    const keyPrefix = `syncline-test-${++prefixes}:`;
    return { connect: (options) => openRedisBus({ url: redis.url, keyPrefix, ...options }) };
  });

  describe("faults", () => {
    const opened: Bus[] = [];
    let keyPrefix: string;
    let proxy: FaultProxy | undefined;
    /** A bus on this test's prefix, closed after the test. */
    const open = async (options: Partial<RedisBusOptions> = {}) => {
      const bus = await openRedisBus({ url: redis.url, keyPrefix, ...options });
      opened.push(bus);
      return bus;
    };
    /** A bus that records its onError reports and resumes. */
    const openWatched = async (options: Partial<RedisBusOptions> = {}) => {
      const reports: [Error, BusErrorContext][] = [];
      const bus = await open({
        ...options,
        onError: (error, context) => reports.push([error as Error, context]),
      });
      const resumed = { count: 0 };
      bus.onResume(() => resumed.count++);
      return { bus, reports, resumed };
    };
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((bus) => bus.close()));
      await proxy?.close();
      proxy = undefined;
      await redis.restart(); // up for the next test whatever this one did
    });
    beforeAll(() => {
      keyPrefix = `syncline-faults-${++prefixes}:`;
    });

    it("degrades when Redis stops, refuses at once, and resumes with its subscriptions", async () => {
      const a = await openWatched();
      const b = await openWatched();
      const received: string[] = [];
      await b.bus.subscribe("t", (payload) => received.push(text(payload)));
      await a.bus.publish("t", Buffer.from("before"));
      await waitUntil("the first message", () => received.length === 1);

      await redis.stop();
      await waitUntil("both degraded", () =>
        [a, b].every(({ bus }) => bus.status().state === "degraded"),
      );
      const status = b.bus.status();
      expect(status).toMatchObject({ driver: "redis", state: "degraded" });
      expect(status.lastError).toMatch(/^redis (publisher|subscriber) connection: /);
      expect(Date.now() - Date.parse(status.since ?? "")).toBeLessThan(5000);
      const started = Date.now();
      expect(await codeOf(a.bus.publish("t", Buffer.from("lost")))).toBe("ERR_BUS_UNAVAILABLE");
      expect(await codeOf(b.bus.subscribe("u", () => {}))).toBe("ERR_BUS_UNAVAILABLE");
      expect(Date.now() - started).toBeLessThan(100);
      expect(b.reports.map(([, context]) => context)).toEqual([{ kind: "connection" }]);

      await redis.restart();
      await waitUntil("both open", () => [a, b].every(({ bus }) => bus.status().state === "open"));
      expect(b.bus.status()).toEqual({ driver: "redis", state: "open" });
      expect([a.resumed.count, b.resumed.count]).toEqual([1, 1]);
      // The subscription came back by itself, and new ones work.
      await a.bus.publish("t", Buffer.from("after"));
      const later: string[] = [];
      await b.bus.subscribe("u", (payload) => later.push(text(payload)));
      await a.bus.publish("u", Buffer.from("new topic"));
      await waitUntil(
        "messages after the restart",
        () => received.length === 2 && later.length === 1,
      );
      expect(received).toEqual(["before", "after"]);
      expect(later).toEqual(["new topic"]);
    });

    it("fails a publish that gets no answer within connectTimeoutMs, instead of hanging", async () => {
      proxy = await startFaultProxy({ target: { host: "127.0.0.1", port: redis.port } });
      const url = `redis://127.0.0.1:${proxy.port}`;
      const a = await openWatched({ url, connectTimeoutMs: 300, heartbeatMs: 60_000 });
      proxy.blackhole(true);
      expect(a.bus.status().state).toBe("open"); // nothing noticed yet: the publish goes out
      const started = Date.now();
      expect(await codeOf(a.bus.publish("t", Buffer.from("unanswered")))).toBe(
        "ERR_BUS_UNAVAILABLE",
      );
      expect(Date.now() - started).toBeLessThan(1000);
      // The silent connection counts as dead: the bus says so, and refuses at once from now on.
      await waitUntil("degraded", () => a.bus.status().state === "degraded", 2000);
      expect(await codeOf(a.bus.publish("t", Buffer.from("x")))).toBe("ERR_BUS_UNAVAILABLE");
    });

    it("notices a dead network that sends no FIN, by its heartbeat, and recovers", async () => {
      proxy = await startFaultProxy({ target: { host: "127.0.0.1", port: redis.port } });
      const url = `redis://127.0.0.1:${proxy.port}`;
      const a = await openWatched({ url, connectTimeoutMs: 400, heartbeatMs: 100 });
      const b = await openWatched();
      const received: string[] = [];
      await a.bus.subscribe("t", (payload) => received.push(text(payload)));

      proxy.blackhole(true);
      await waitUntil("degraded", () => a.bus.status().state === "degraded", 3000);
      expect(await codeOf(a.bus.publish("t", Buffer.from("x")))).toBe("ERR_BUS_UNAVAILABLE");

      proxy.blackhole(false);
      await waitUntil("open again", () => a.bus.status().state === "open", 8000);
      expect(a.resumed.count).toBe(1);
      await b.bus.publish("t", Buffer.from("through"));
      await waitUntil("delivery after recovery", () => received.length === 1);
      expect(received).toEqual(["through"]);
    });

    it("refuses to open within the timeout when Redis is unreachable, never showing the password", async () => {
      const port = await freePort(); // nothing listens there
      const started = Date.now();
      let refusal: { code?: string; message?: string } = {};
      try {
        await open({ url: `redis://:s3cret-pw@127.0.0.1:${port}/0`, connectTimeoutMs: 300 });
      } catch (error) {
        refusal = error as typeof refusal;
      }
      const elapsed = Date.now() - started;
      expect(refusal.code).toBe("ERR_BUS_UNAVAILABLE");
      expect(elapsed).toBeGreaterThanOrEqual(290);
      expect(elapsed).toBeLessThan(1500);
      expect(refusal.message).toContain(`redis://:***@127.0.0.1:${port}/0`);
      expect(refusal.message).toMatch(/ECONNREFUSED/);
      expect(refusal.message).not.toContain("s3cret-pw");
    });

    it("refuses a wrong password within the timeout, showing neither password", async () => {
      const admin = new Redis(redis.url);
      await admin.config("SET", "requirepass", "right-pw"); // the restart after the test undoes it
      await admin.quit();
      const withPassword = (password: string) => `redis://:${password}@127.0.0.1:${redis.port}`;
      let refusal: { code?: string; message?: string } = {};
      try {
        await open({ url: withPassword("wrong-pw"), connectTimeoutMs: 300 });
      } catch (error) {
        refusal = error as typeof refusal;
      }
      expect(refusal.code).toBe("ERR_BUS_UNAVAILABLE");
      expect(refusal.message).toMatch(/WRONGPASS/);
      expect(refusal.message).not.toMatch(/wrong-pw|right-pw/);
      const bus = await open({ url: withPassword("right-pw") });
      expect(bus.status().state).toBe("open");
    });

    it("drops a newer envelope version and garbage published raw, reports them, keeps going", async () => {
      const a = await openWatched();
      const b = await openWatched();
      const received: string[] = [];
      await b.bus.subscribe("t", (payload) => received.push(text(payload)));
      const raw = new Redis(redis.url);
      try {
        const newer = Buffer.from([0xb5, 2, 4, ...Buffer.from("node"), 1, 2, 3]);
        await raw.publish(`${keyPrefix}t`, newer);
        await raw.publish(`${keyPrefix}t`, Buffer.from("garbage"));
        await raw.publish(`${keyPrefix}t`, Buffer.alloc(0));
      } finally {
        await raw.quit();
      }
      await a.bus.publish("t", Buffer.from("still works"));
      await waitUntil("the good message", () => received.length === 1);
      expect(received).toEqual(["still works"]);
      const dropped = b.reports.map(([error, context]) => [
        (error as { code?: string }).code,
        context,
      ]);
      expect(dropped).toEqual([
        ["ERR_BUS_MESSAGE", { kind: "dropped", topic: "t" }],
        ["ERR_BUS_MESSAGE", { kind: "dropped", topic: "t" }],
        ["ERR_BUS_MESSAGE", { kind: "dropped", topic: "t" }],
      ]);
      const messages = b.reports.map(([error]) => error.message);
      expect(messages[0]).toMatch(/envelope version 2 is newer than 1/);
      expect(messages[1]).toMatch(/not a bus envelope \(first byte 0x67\)/); // "g"
      expect(messages[2]).toMatch(/empty message/);
      expect(b.bus.status().state).toBe("open");
    });
  });
});
