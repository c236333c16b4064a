import { describe, expect, it } from "vitest";
import { createDeferred } from "./deferred.js";

describe("createDeferred", () => {
  it("resolves the promise from outside", async () => {
    const deferred = createDeferred<number>();
    expect(deferred.settled).toBe(false);
    deferred.resolve(42);
    expect(deferred.settled).toBe(true);
    await expect(deferred.promise).resolves.toBe(42);
  });

  it("rejects the promise from outside", async () => {
    const deferred = createDeferred<void>();
    const failure = new Error("gone");
    deferred.reject(failure);
    expect(deferred.settled).toBe(true);
    await expect(deferred.promise).rejects.toBe(failure);
  });

  it("keeps the first outcome", async () => {
    const resolvedFirst = createDeferred<string>();
    resolvedFirst.resolve("first");
    resolvedFirst.reject(new Error("late"));
    resolvedFirst.resolve("second");
    await expect(resolvedFirst.promise).resolves.toBe("first");

    const rejectedFirst = createDeferred<string>();
    rejectedFirst.reject(new Error("first"));
    rejectedFirst.resolve("late");
    await expect(rejectedFirst.promise).rejects.toThrow("first");
  });

  it("stays pending until settled", async () => {
    const deferred = createDeferred<string>();
    const marker = Symbol("pending");
    const raced = await Promise.race([deferred.promise, Promise.resolve(marker)]);
    expect(raced).toBe(marker);
    expect(deferred.settled).toBe(false);
  });

  it("follows a promise passed to resolve and counts as settled at once", async () => {
    const inner = createDeferred<string>();
    const outer = createDeferred<string>();
    outer.resolve(inner.promise);
    expect(outer.settled).toBe(true);
    outer.resolve("ignored");
    inner.resolve("from inner");
    await expect(outer.promise).resolves.toBe("from inner");
  });
});
