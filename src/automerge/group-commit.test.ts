import { describe, expect, it } from "vitest";
import type { StoreOp } from "../storage/store.js";
import { createGroupCommit } from "./group-commit.js";
import { createMapStore } from "./testing/map-store.js";

const put = (name: string): StoreOp => ({
  type: "put",
  key: ["k", name],
  value: new Uint8Array([1]),
});

const countingStore = createMapStore;

describe("createGroupCommit", () => {
  it("turns a burst of writes from many callers into one store write", async () => {
    const store = countingStore();
    const commit = createGroupCommit(store);
    await Promise.all(Array.from({ length: 1000 }, (_, i) => commit.write([put(String(i))])));
    expect(store.writes).toBe(1);
    expect(await store.get(["k", "999"])).toEqual(new Uint8Array([1]));
  });

  it("batches writes made while a commit is in flight into the next one", async () => {
    const store = countingStore();
    const commit = createGroupCommit(store);
    const first = commit.write([put("a")]);
    await new Promise((resolve) => setImmediate(resolve)); // the first batch is issued
    const rest = Array.from({ length: 50 }, (_, i) => commit.write([put(`b${i}`)]));
    await Promise.all([first, ...rest]);
    expect(store.writes).toBe(2);
  });

  it("rejects every write of a failed batch and keeps going", async () => {
    const store = countingStore();
    const commit = createGroupCommit(store);
    const bad = commit.write([{ type: "put", key: [], value: new Uint8Array() }]);
    await expect(bad).rejects.toMatchObject({ code: "ERR_INVALID_STORE_KEY" });
    await expect(commit.write([put("after")])).resolves.toBeUndefined();
    await commit.flush();
    expect(commit.pending).toBe(0);
  });

  it("caps a batch at maxOps operations", async () => {
    const store = countingStore();
    const commit = createGroupCommit(store, { maxOps: 10 });
    await Promise.all(Array.from({ length: 35 }, (_, i) => commit.write([put(String(i))])));
    expect(store.writes).toBe(4);
  });
});
