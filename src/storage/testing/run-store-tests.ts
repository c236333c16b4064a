// The conformance suite every Store driver passes: call `runStoreTests` from a driver's test
// file with a setup that returns a fresh, empty store.

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Store, StoreEntry, StoreKey } from "../store.js";

/** What a driver's setup returns for each test. */
export interface StoreTestContext {
  /** A fresh, empty, open store. */
  readonly store: Store;
  /** Releases what the setup made (closing the store is done by the suite when needed). */
  readonly teardown?: () => Promise<void>;
  /** Opens the same data again after `store.close()`; drivers that persist provide it. */
  readonly reopen?: () => Promise<Store>;
}

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (value: Uint8Array | undefined) =>
  value === undefined ? undefined : new TextDecoder().decode(value);

async function collect(iterable: AsyncIterable<StoreEntry>): Promise<StoreEntry[]> {
  const entries: StoreEntry[] = [];
  for await (const entry of iterable) entries.push(entry);
  return entries;
}

const keysOf = (entries: StoreEntry[]) => entries.map((entry) => entry.key.join("/"));

async function put(store: Store, ...keys: StoreKey[]): Promise<void> {
  await store.write(keys.map((key) => ({ type: "put", key, value: bytes(key.join("/")) })));
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
}

/** Registers the conformance tests for one driver under `describe(name)`. */
export function runStoreTests(name: string, setup: () => Promise<StoreTestContext>): void {
  describe(`${name} store conformance`, () => {
    let context: StoreTestContext;
    let store: Store;
    beforeEach(async () => {
      context = await setup();
      store = context.store;
    });
    afterEach(async () => {
      await store.close();
      await context.teardown?.();
    });

    it("get of a missing key is undefined", async () => {
      expect(await store.get(["nothing", "here"])).toBeUndefined();
    });

    it("round-trips binary values, including empty and 1 MiB ones", async () => {
      const big = new Uint8Array(1024 * 1024).map((_, i) => i % 251);
      const binary = Uint8Array.from([0, 1, 2, 255, 0]);
      await store.write([
        { type: "put", key: ["v", "empty"], value: new Uint8Array(0) },
        { type: "put", key: ["v", "big"], value: big },
        { type: "put", key: ["v", "binary"], value: binary },
      ]);
      expect(await store.get(["v", "empty"])).toEqual(new Uint8Array(0));
      // Compared as bytes: a deep equality over a million elements is needlessly slow.
      const readBig = await store.get(["v", "big"]);
      expect(readBig && Buffer.compare(readBig, big)).toBe(0);
      expect(await store.get(["v", "binary"])).toEqual(binary);
    });

    it("overwrites a key", async () => {
      await store.write([{ type: "put", key: ["k"], value: bytes("one") }]);
      await store.write([{ type: "put", key: ["k"], value: bytes("two") }]);
      expect(text(await store.get(["k"]))).toBe("two");
    });

    it("applies a batch in order: put then delete of one key leaves nothing", async () => {
      await put(store, ["a"], ["b"]);
      await store.write([
        { type: "put", key: ["c"], value: bytes("c") },
        { type: "delete", key: ["a"] },
        { type: "put", key: ["d"], value: bytes("d") },
        { type: "delete", key: ["d"] },
        { type: "delete", key: ["never-there"] },
      ]);
      expect(keysOf(await collect(store.range([])))).toEqual(["b", "c"]);
    });

    it("rejects a batch with an invalid key and applies none of it", async () => {
      const bad = [["ok"], ["bad", ""]] as StoreKey[];
      const code = await codeOf(
        store.write(bad.map((key) => ({ type: "put", key, value: bytes("x") }))),
      );
      expect(code).toBe("ERR_INVALID_STORE_KEY");
      expect(await store.get(["ok"])).toBeUndefined();
      expect(await codeOf(store.get([]))).toBe("ERR_INVALID_STORE_KEY");
      expect(await codeOf(store.get(["x".repeat(5000)]))).toBe("ERR_INVALID_STORE_KEY");
    });

    it("ranges exactly over a prefix, segment by segment, in key order", async () => {
      await put(store, ["b", "2"], ["a", "1"], ["ab", "1"], ["a", "2", "x"], ["a"], ["a", "10"]);
      const entries = await collect(store.range(["a"]));
      // A key counts as under its own prefix.
      expect(keysOf(entries)).toEqual(["a", "a/1", "a/10", "a/2/x"]);
      expect(text(entries[1]?.value)).toBe("a/1");
      expect(keysOf(await collect(store.range([])))).toEqual([
        "a",
        "a/1",
        "a/10",

        "a/2/x",
        "ab/1",
        "b/2",
      ]);
    });

    it("orders segments by UTF-8 bytes, with control characters and unicode", async () => {
      const segments = ["\u0001", "\u0000x", "A", "a", "é", "日本", "😀", "ÿ", "a\u0000"];
      await put(store, ...segments.map((segment) => ["u", segment]));
      const expected = [...segments].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
      const entries = await collect(store.range(["u"]));
      expect(entries.map((entry) => entry.key[1])).toEqual(expected);
    });

    it("supports reverse, limit, start and end", async () => {
      const keys = ["00", "01", "02", "03", "04", "05"].map((n) => ["log", n]);
      await put(store, ...keys, ["logx"], ["lo"]);
      expect(keysOf(await collect(store.range(["log"], { reverse: true })))).toEqual([
        "log/05",
        "log/04",
        "log/03",
        "log/02",
        "log/01",
        "log/00",
      ]);
      expect(keysOf(await collect(store.range(["log"], { limit: 2 })))).toEqual([
        "log/00",
        "log/01",
      ]);
      const bounded = { start: ["log", "02"], end: ["log", "05"] };
      expect(keysOf(await collect(store.range(["log"], bounded)))).toEqual([
        "log/02",
        "log/03",
        "log/04",
      ]);
      expect(
        keysOf(await collect(store.range(["log"], { ...bounded, reverse: true, limit: 2 }))),
      ).toEqual(["log/04", "log/03"]);
      expect(keysOf(await collect(store.range([], { reverse: true, limit: 1 })))).toEqual(["logx"]);
    });

    it("rejects range bounds outside the prefix", async () => {
      const outside = collect(store.range(["log"], { start: ["other"] }));
      expect(await codeOf(outside)).toBe("ERR_INVALID_STORE_KEY");
    });

    it("scans more entries than one page, in order, while writes go on", async () => {
      const keys = Array.from({ length: 1000 }, (_, i) => ["many", String(i).padStart(5, "0")]);
      await put(store, ...keys);
      const seen: string[] = [];
      for await (const entry of store.range(["many"])) {
        seen.push(entry.key[1] as string);
        if (seen.length % 100 === 0) await put(store, ["other", String(seen.length)]);
      }
      expect(seen).toEqual(keys.map((key) => key[1]));
    });

    it("deletes exactly a prefix", async () => {
      await put(store, ["doc", "1", "a"], ["doc", "1", "b"], ["doc", "10"], ["doc", "2"], ["doc"]);
      await store.deletePrefix(["doc", "1"]);
      expect(keysOf(await collect(store.range([])))).toEqual(["doc", "doc/10", "doc/2"]);
      expect(await codeOf(store.deletePrefix([]))).toBe("ERR_INVALID_STORE_KEY");
    });

    it("hands out copies: mutating a value changes nothing stored", async () => {
      const value = bytes("original");
      await store.write([{ type: "put", key: ["copy"], value }]);
      value[0] = 0;
      const read = await store.get(["copy"]);
      expect(text(read)).toBe("original");
      if (read) read[0] = 0;
      const [entry] = await collect(store.range(["copy"]));
      if (entry) entry.value[1] = 0;
      expect(text(await store.get(["copy"]))).toBe("original");
    });

    it("lands every one of many concurrent writes", async () => {
      await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          store.write([
            { type: "put", key: ["c", String(i).padStart(3, "0")], value: bytes(String(i)) },
          ]),
        ),
      );
      expect((await collect(store.range(["c"]))).length).toBe(200);
    });

    it("reports its state and refuses use after close", async () => {
      expect(store.status().state).toBe("open");
      await store.close();
      expect(store.status().state).toBe("closed");
      expect(await codeOf(store.get(["k"]))).toBe("ERR_STORE_CLOSED");
      expect(await codeOf(store.write([{ type: "delete", key: ["k"] }]))).toBe("ERR_STORE_CLOSED");
      expect(await codeOf(collect(store.range(["k"])))).toBe("ERR_STORE_CLOSED");
      expect(await codeOf(store.deletePrefix(["k"]))).toBe("ERR_STORE_CLOSED");
      await store.close(); // closing twice is harmless
    });

    it("keeps data across close and reopen (persistent drivers)", async (test) => {
      if (!context.reopen) {
        // Volatile drivers have nothing to keep; the assertion documents that.
        expect(store.status().driver).toBe("memory");
        return;
      }
      await put(store, ["keep", "1"], ["keep", "2"]);
      await store.close();
      store = await context.reopen();
      expect(keysOf(await collect(store.range(["keep"])))).toEqual(["keep/1", "keep/2"]);
      expect(test.task.name).toContain("reopen");
    });
  });
}
