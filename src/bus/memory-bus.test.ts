// The memory driver against the shared conformance suite, plus what only it has: a network that
// can go offline, to exercise consumers' degraded and resume paths without Redis.

import { describe, expect, it } from "vitest";
import { createMemoryBusNetwork } from "./memory-bus.js";
import { runBusTests } from "./testing/run-bus-tests.js";

runBusTests("memory", async () => {
  const network = createMemoryBusNetwork();
  return { connect: async (options) => network.connect(options) };
});

const codeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: { code?: string }) => error.code,
  );

describe("memory bus network", () => {
  it("degrades every node while offline, and resumes them once online", async () => {
    const network = createMemoryBusNetwork();
    const [a, b] = [network.connect(), network.connect()];
    const received: string[] = [];
    await b.subscribe("t", (payload) => received.push(Buffer.from(payload).toString()));
    let resumed = 0;
    const removeListener = b.onResume(() => resumed++);

    network.setOnline(false);
    expect(b.status()).toMatchObject({ driver: "memory", state: "degraded" });
    expect(Date.parse(b.status().since ?? "")).toBeGreaterThan(0);
    expect(await codeOf(a.publish("t", Uint8Array.of(1)))).toBe("ERR_BUS_UNAVAILABLE");
    expect(await codeOf(b.subscribe("u", () => {}))).toBe("ERR_BUS_UNAVAILABLE");
    expect(network.connect().status().state).toBe("degraded");

    network.setOnline(true);
    await new Promise((resolve) => setImmediate(resolve));
    expect(resumed).toBe(1);
    expect(b.status()).toEqual({ driver: "memory", state: "open" });
    await a.publish("t", Buffer.from("back"));
    await new Promise((resolve) => setImmediate(resolve));
    expect(received).toEqual(["back"]);

    removeListener();
    network.setOnline(false);
    network.setOnline(true);
    await new Promise((resolve) => setImmediate(resolve));
    expect(resumed).toBe(1);
  });

  it("turns a handler's error into a process warning when no onError is given", async () => {
    const network = createMemoryBusNetwork();
    const [a, b] = [network.connect(), network.connect()];
    await b.subscribe("t", () => {
      throw new Error("handler failed");
    });
    const warned = new Promise<Error>((resolve) => process.once("warning", resolve));
    await a.publish("t", Uint8Array.of(1));
    const warning = await warned;
    expect(warning.name).toBe("SynclineBusWarning");
    expect(warning.message).toBe('bus handler on topic "t": handler failed');
  });
});
