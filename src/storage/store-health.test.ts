// The write-health watch: a storage fault makes the store unwritable (status, observer) until a
// write succeeds again; reads pass through; a closed store or an invalid key is no storage fault.

import { describe, expect, it } from "vitest";
import { createError } from "../protocol/errors.js";
import { createMemoryStore } from "./memory-store.js";
import type { Store } from "./store.js";
import { type StoreWriteOperation, watchStoreHealth } from "./store-health.js";

/** A memory store whose writes and prefix deletes fail like a full disk while `full` is set. */
function diskOf(inner: Store = createMemoryStore()) {
  const disk = { full: false };
  const refuse = () => Promise.reject(createError("ERR_STORE_WRITE", "store: disk full (test)"));
  const store: Store = {
    get: (key) => inner.get(key),
    range: (prefix, options) => inner.range(prefix, options),
    write: (ops) => (disk.full ? refuse() : inner.write(ops)),
    deletePrefix: (prefix) => (disk.full ? refuse() : inner.deletePrefix(prefix)),
    close: () => inner.close(),
    status: () => inner.status(),
  };
  return { disk, store };
}

const put = (name: string) => [
  { type: "put" as const, key: ["k", name], value: new TextEncoder().encode(name) },
];

describe("store health", () => {
  it("is unwritable from a failed write until one succeeds, and reads meanwhile", async () => {
    const { disk, store } = diskOf();
    const failures: StoreWriteOperation[] = [];
    const changes: boolean[] = [];
    const watched = watchStoreHealth(store, {
      writeFailed: (operation) => failures.push(operation),
      writableChanged: (writable) => changes.push(writable),
    });
    await watched.write(put("a"));
    expect(watched.status()).toEqual({ driver: "memory", state: "open", writable: true });

    disk.full = true;
    await expect(watched.write(put("b"))).rejects.toMatchObject({ code: "ERR_STORE_WRITE" });
    const degraded = watched.status();
    expect(degraded).toMatchObject({
      state: "open",
      writable: false,
      lastError: "ERR_STORE_WRITE",
    });
    expect(Date.parse(degraded.failingSince as string)).toBeLessThanOrEqual(Date.now());
    await expect(watched.deletePrefix(["k"])).rejects.toMatchObject({ code: "ERR_STORE_WRITE" });
    expect(watched.status().failingSince).toBe(degraded.failingSince); // since the first one
    expect(await watched.get(["k", "a"])).toEqual(new TextEncoder().encode("a"));

    disk.full = false;
    await watched.write(put("c"));
    expect(watched.status()).toEqual({ driver: "memory", state: "open", writable: true });
    expect(failures).toEqual(["write", "deletePrefix"]);
    expect(changes).toEqual([false, true]);
  });

  it("counts neither a closed store nor an invalid key as a storage fault", async () => {
    const inner = createMemoryStore();
    const watched = watchStoreHealth(inner, {
      writeFailed: () => expect.unreachable("not a storage fault"),
    });
    const badKey = [{ type: "put" as const, key: [], value: new Uint8Array() }];
    await expect(watched.write(badKey)).rejects.toMatchObject({ code: "ERR_INVALID_STORE_KEY" });
    await watched.close();
    await expect(watched.write(put("a"))).rejects.toMatchObject({ code: "ERR_STORE_CLOSED" });
    expect(watched.status()).toEqual({ driver: "memory", state: "closed", writable: true });
  });
});

describe("store read health", () => {
  /** A memory store whose reads fail like a lost database connection while `down` is set. */
  function databaseOf() {
    const inner = createMemoryStore();
    const database = { down: false };
    const lost = () => createError("ERR_STORE_READ", "store: connection lost (test)");
    const store: Store = {
      get: (key) => (database.down ? Promise.reject(lost()) : inner.get(key)),
      range: (prefix, options) =>
        database.down
          ? (async function* () {
              yield* [];
              throw lost();
            })()
          : inner.range(prefix, options),
      write: (ops) => inner.write(ops),
      deletePrefix: (prefix) => inner.deletePrefix(prefix),
      close: () => inner.close(),
      status: () => inner.status(),
    };
    return { database, store };
  }

  it("is unreadable from a failed read (get or range) until a read succeeds", async () => {
    const { database, store } = databaseOf();
    const changes: boolean[] = [];
    const watched = watchStoreHealth(store, {
      readableChanged: (readable) => changes.push(readable),
    });
    database.down = true;
    await expect(watched.get(["k"])).rejects.toMatchObject({ code: "ERR_STORE_READ" });
    const scan = async () => {
      for await (const _ of watched.range(["k"])) {
      }
    };
    await expect(scan()).rejects.toMatchObject({ code: "ERR_STORE_READ" });
    expect(watched.status()).toMatchObject({
      writable: true,
      readable: false,
      lastError: "ERR_STORE_READ",
    });
    expect(watched.status().failingSince).toMatch(/^\d{4}-/);
    database.down = false;
    await scan();
    expect(watched.status()).toEqual({ driver: "memory", state: "open", writable: true });
    expect(changes).toEqual([false, true]);
  });

  it("a closed store or an invalid key says nothing about reads", async () => {
    const watched = watchStoreHealth(createMemoryStore());
    await expect(watched.get([""])).rejects.toMatchObject({ code: "ERR_INVALID_STORE_KEY" });
    await watched.close();
    await expect(watched.get(["k"])).rejects.toMatchObject({ code: "ERR_STORE_CLOSED" });
    expect(watched.status().readable).toBeUndefined();
  });
});

describe("store probe", () => {
  it("has none when the driver has none, and records a driver's probe like a read", async () => {
    expect(watchStoreHealth(createMemoryStore()).probe).toBeUndefined();
    let reachable = false;
    const inner = createMemoryStore();
    const probed = watchStoreHealth({
      get: (key) => inner.get(key),
      range: (prefix, options) => inner.range(prefix, options),
      write: (ops) => inner.write(ops),
      deletePrefix: (prefix) => inner.deletePrefix(prefix),
      close: () => inner.close(),
      status: () => inner.status(),
      probe: async () => {
        if (!reachable) throw createError("ERR_STORE_READ", "store: unreachable (test)");
      },
    });
    await expect(probed.probe?.()).rejects.toMatchObject({ code: "ERR_STORE_READ" });
    expect(probed.status().readable).toBe(false);
    reachable = true;
    await probed.probe?.();
    expect(probed.status().readable).toBeUndefined();
  });
});
