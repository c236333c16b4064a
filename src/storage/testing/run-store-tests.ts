// The conformance suite every Store driver passes: a driver's test file calls `runStoreTests`
// with a setup that returns a fresh, empty store (and, for persistent drivers, a way to reopen).

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Store, StoreEntry, StoreKey, StoreOp } from "../store.js";
import { registerExpectTests } from "./store-expect-tests.js";

/** What a driver's setup returns for each test. */
export interface StoreTestContext {
  /** A fresh, empty, open store. */
  readonly store: Store;
  /** Removes what the setup made; runs after the suite has closed the store. */
  readonly teardown?: () => Promise<void>;
  /** Opens the same data again after `store.close()`; persistent drivers provide it. */
  readonly reopen?: () => Promise<Store>;
}

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (value: Uint8Array | undefined) =>
  value === undefined ? undefined : new TextDecoder().decode(value);
const path = (key: StoreKey) => key.join("/");
const keysOf = (entries: StoreEntry[]) => entries.map((entry) => path(entry.key));

async function collect(iterable: AsyncIterable<StoreEntry>): Promise<StoreEntry[]> {
  const entries: StoreEntry[] = [];
  for await (const entry of iterable) entries.push(entry);
  return entries;
}

/** Puts each key with its own path as the value. */
function put(store: Store, ...keys: StoreKey[]): Promise<void> {
  return store.write(keys.map((key) => ({ type: "put", key, value: bytes(path(key)) })));
}

/** The `code` a promise rejects with, or undefined when it resolves. */
async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
}

/** The documented key order, computed independently of any driver's encoding. */
function compareKeys(a: StoreKey, b: StoreKey): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const order = Buffer.compare(Buffer.from(a[i] as string), Buffer.from(b[i] as string));
    if (order !== 0) return order;
  }
  return a.length - b.length;
}

/** A small seeded generator (mulberry32), so a failure reproduces. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
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

    registerExpectTests(() => store);

    it("gets undefined for a missing key", async () => {
      expect(await store.get(["nothing", "here"])).toBeUndefined();
    });

    it("round-trips binary values: empty, 1 MiB, every byte, a view into a buffer", async () => {
      const big = new Uint8Array(1024 * 1024).map((_, i) => (i * 7) % 251);
      const every = Uint8Array.from({ length: 256 }, (_, i) => i);
      const view = Buffer.from("xxsliced valuexx").subarray(2, 14);
      await store.write([
        { type: "put", key: ["v", "empty"], value: new Uint8Array(0) },
        { type: "put", key: ["v", "big"], value: big },
        { type: "put", key: ["v", "every"], value: every },
        { type: "put", key: ["v", "view"], value: view },
      ]);
      expect(await store.get(["v", "empty"])).toEqual(new Uint8Array(0));
      const readBig = await store.get(["v", "big"]);
      expect(readBig && Buffer.compare(readBig, big)).toBe(0); // faster than a deep equal
      expect(Array.from((await store.get(["v", "every"])) ?? [])).toEqual(Array.from(every));
      expect(text(await store.get(["v", "view"]))).toBe("sliced value");
    });

    it("overwrites a key", async () => {
      await store.write([{ type: "put", key: ["k"], value: bytes("one") }]);
      await store.write([{ type: "put", key: ["k"], value: bytes("two") }]);
      expect(text(await store.get(["k"]))).toBe("two");
    });

    it("applies a batch in order, and an empty batch is a no-op", async () => {
      await put(store, ["a"], ["b"]);
      await store.write([
        { type: "put", key: ["c"], value: bytes("c") },
        { type: "delete", key: ["a"] },
        { type: "put", key: ["d"], value: bytes("d") },
        { type: "delete", key: ["d"] },
        { type: "delete", key: ["b"] },
        { type: "put", key: ["b"], value: bytes("b again") },
        { type: "delete", key: ["never-there"] },
      ]);
      await store.write([]);
      expect(keysOf(await collect(store.range([])))).toEqual(["b", "c"]);
      expect(text(await store.get(["b"]))).toBe("b again");
    });

    it("rejects a batch with an invalid key and applies none of it", async () => {
      const invalid = [[], [""], ["ok", ""], [7], "k", ["\ud800"], ["x".repeat(2000)]];
      for (const bad of invalid as StoreKey[]) {
        const batch: StoreOp[] = [
          { type: "put", key: ["ok"], value: bytes("x") },
          { type: "put", key: bad, value: bytes("x") },
        ];
        const label = JSON.stringify(bad);
        expect(await codeOf(store.write(batch)), label).toBe("ERR_INVALID_STORE_KEY");
        expect(await codeOf(store.get(bad)), label).toBe("ERR_INVALID_STORE_KEY");
      }
      expect(await store.get(["ok"])).toBeUndefined();
      expect(await codeOf(collect(store.range(["ok", ""])))).toBe("ERR_INVALID_STORE_KEY");
      expect(await codeOf(store.deletePrefix([""]))).toBe("ERR_INVALID_STORE_KEY");
    });

    it("rejects a malformed operation and applies none of the batch", async () => {
      const notBytes = { type: "put", key: ["b"], value: "text" } as unknown as StoreOp;
      const unknown = { type: "merge", key: ["b"] } as unknown as StoreOp;
      for (const op of [notBytes, unknown]) {
        const batch: StoreOp[] = [{ type: "put", key: ["a"], value: bytes("a") }, op];
        expect(await codeOf(store.write(batch))).toBe("ERR_STORE_WRITE");
      }
      expect(await store.get(["a"])).toBeUndefined();
    });

    it("ranges over exactly a prefix, segment by segment, the prefix key included", async () => {
      await put(store, ["b", "2"], ["a", "1"], ["ab", "1"], ["a", "2", "x"], ["a"], ["a", "10"]);
      const entries = await collect(store.range(["a"]));
      expect(keysOf(entries)).toEqual(["a", "a/1", "a/10", "a/2/x"]);
      expect(text(entries[1]?.value)).toBe("a/1");
      expect(keysOf(await collect(store.range(["a", "2"])))).toEqual(["a/2/x"]);
      expect(keysOf(await collect(store.range(["c"])))).toEqual([]);
      // The empty prefix scans everything.
      const all = ["a", "a/1", "a/10", "a/2/x", "ab/1", "b/2"];
      expect(keysOf(await collect(store.range([])))).toEqual(all);
    });

    it("orders by UTF-8 bytes, with control characters, unicode and padded numbers", async () => {
      const segments = ["\u0001", "\u0000x", "\u0000", "A", "a", "é", "日本", "😀", "ÿ", "a\u0000"];
      const numbers = [0, 7, 42, 100, 999].map((n) => String(n).padStart(4, "0"));
      await put(store, ...[...segments, ...numbers].map((segment) => ["u", segment]));
      const expected = [...segments, ...numbers].sort((x, y) => compareKeys([x], [y]));
      const entries = await collect(store.range(["u"]));
      expect(entries.map((entry) => entry.key[1])).toEqual(expected);
      expect(text(await store.get(["u", "\u0000x"]))).toBe("u/\u0000x");
    });

    it("supports reverse, limit, start and end", async () => {
      const keys = ["00", "01", "02", "03", "04", "05"].map((n) => ["log", n]);
      await put(store, ...keys, ["logx"], ["lo"], ["log"]);
      const scan = async (options: Parameters<Store["range"]>[1], prefix = ["log"]) =>
        keysOf(await collect(store.range(prefix, options)));
      expect(await scan({ reverse: true })).toEqual([
        ...["05", "04", "03", "02", "01", "00"].map((n) => `log/${n}`),
        "log",
      ]);
      expect(await scan({ limit: 2 })).toEqual(["log", "log/00"]);
      expect(await scan({ limit: 0 })).toEqual([]);
      const bounded = { start: ["log", "02"], end: ["log", "05"] };
      expect(await scan(bounded)).toEqual(["log/02", "log/03", "log/04"]);
      expect(await scan({ ...bounded, reverse: true, limit: 2 })).toEqual(["log/04", "log/03"]);
      expect(await scan({ start: ["log", "04"] })).toEqual(["log/04", "log/05"]);
      expect(await scan({ end: ["log", "01"], reverse: true })).toEqual(["log/00", "log"]);
      expect(await scan({ start: ["log"], end: ["log", "00"] })).toEqual(["log"]);
      expect(await scan({ reverse: true, limit: 1 }, [])).toEqual(["logx"]);
      expect(await scan({ limit: 1 }, [])).toEqual(["lo"]);
    });

    it("rejects range bounds that do not lie under the prefix", async () => {
      for (const options of [{ start: ["other"] }, { end: ["lo"] }, { start: ["logs", "1"] }]) {
        expect(await codeOf(collect(store.range(["log"], options)))).toBe("ERR_INVALID_STORE_KEY");
      }
    });

    it("scans many pages forward and backward, with limits across pages", async () => {
      const keys = Array.from({ length: 700 }, (_, i) => ["many", String(i).padStart(5, "0")]);
      await put(store, ...keys, ["man"], ["manyx"]);
      const names = keys.map(path);
      expect(keysOf(await collect(store.range(["many"])))).toEqual(names);
      expect(keysOf(await collect(store.range(["many"], { reverse: true })))).toEqual(
        [...names].reverse(),
      );
      const reversed = await collect(store.range(["many"], { reverse: true, limit: 300 }));
      expect(keysOf(reversed)).toEqual([...names].reverse().slice(0, 300));
      const start = ["many", "00100"];
      const end = ["many", "00650"];
      expect(keysOf(await collect(store.range(["many"], { start, end, limit: 513 })))).toEqual(
        names.slice(100, 613),
      );
    });

    it("keeps order and never repeats while writes go on during a scan", async () => {
      const pad = (n: number) => String(n).padStart(5, "0");
      const evens = Array.from({ length: 600 }, (_, i) => pad(i * 2));
      await put(store, ...evens.map((id) => ["scan", id]));
      const seen: string[] = [];
      const writes: Promise<void>[] = [];
      for await (const entry of store.range(["scan"])) {
        const at = Number(entry.key[1]);
        seen.push(entry.key[1] as string);
        // Only original (even) keys act, or the scan could chase its own inserts forever.
        if (at % 2 === 1) continue;
        // Inserts behind and ahead of the cursor and deletes ahead, without waiting for them.
        writes.push(put(store, ["scan", pad(at + 1)], ["scan", pad(Math.max(at - 1, 1))]));
        if (seen.length % 50 === 0) {
          writes.push(store.write([{ type: "delete", key: ["scan", pad(at + 3)] }]));
        }
      }
      await Promise.all(writes);
      expect([...seen].sort()).toEqual(seen);
      expect(new Set(seen).size).toBe(seen.length);
      expect(evens.filter((id) => !seen.includes(id))).toEqual([]);
    });

    it("deletes exactly a prefix", async () => {
      await put(store, ["doc", "1", "a"], ["doc", "1", "b"], ["doc", "10"], ["doc", "2"], ["doc"]);
      await put(store, ["doc", "1"]);
      await store.deletePrefix(["doc", "1"]);
      expect(keysOf(await collect(store.range([])))).toEqual(["doc", "doc/10", "doc/2"]);
      await store.deletePrefix(["nothing"]);
      expect(await codeOf(store.deletePrefix([]))).toBe("ERR_INVALID_STORE_KEY");
    });

    it("applies writes and deletes in call order without awaiting each", async () => {
      await put(store, ["p", "old"]);
      const calls = [
        store.deletePrefix(["p"]),
        put(store, ["p", "new"]),
        put(store, ["q", "gone"]),
        store.deletePrefix(["q"]),
        store.write([{ type: "put", key: ["r"], value: bytes("first") }]),
        store.write([{ type: "put", key: ["r"], value: bytes("last") }]),
      ];
      await Promise.all(calls);
      expect(keysOf(await collect(store.range([])))).toEqual(["p/new", "r"]);
      expect(text(await store.get(["r"]))).toBe("last");
    });

    it("hands out copies: mutating a value passed in or read out changes nothing", async () => {
      const value = bytes("original");
      const pending = store.write([{ type: "put", key: ["copy"], value }]);
      value[0] = 0; // before the write has even resolved
      await pending;
      const read = await store.get(["copy"]);
      expect(text(read)).toBe("original");
      if (read) read[0] = 0;
      const [entry] = await collect(store.range(["copy"]));
      if (entry) entry.value[1] = 0;
      expect(text(await store.get(["copy"]))).toBe("original");
    });

    it("lands every one of many concurrent writes", async () => {
      const count = 200;
      const id = (i: number) => String(i).padStart(3, "0");
      await Promise.all(
        Array.from({ length: count }, (_, i) =>
          store.write([{ type: "put", key: ["c", id(i)], value: bytes(String(i)) }]),
        ),
      );
      const entries = await collect(store.range(["c"]));
      expect(entries.map((entry) => text(entry.value))).toEqual(
        Array.from({ length: count }, (_, i) => String(i)),
      );
    });

    it("matches a simple model over random batches and scans", async () => {
      const next = random(20_240_611);
      const alphabet = ["a", "b", "ab", "\u0000", "é", "😀", "0", "10"];
      const pick = () => alphabet[Math.floor(next() * alphabet.length)] as string;
      const randomKey = () => Array.from({ length: 1 + Math.floor(next() * 3) }, pick);
      const model = new Map<string, StoreKey>();
      for (let round = 0; round < 30; round++) {
        const ops: StoreOp[] = Array.from({ length: 10 }, () => {
          const key = randomKey();
          return next() < 0.75
            ? { type: "put", key, value: bytes(path(key)) }
            : { type: "delete", key };
        });
        await store.write(ops);
        for (const op of ops) {
          if (op.type === "put") model.set(JSON.stringify(op.key), op.key);
          else model.delete(JSON.stringify(op.key));
        }
        const prefix = randomKey().slice(0, Math.floor(next() * 3));
        const expected = [...model.values()]
          .filter((key) => prefix.every((segment, i) => key[i] === segment))
          .sort(compareKeys);
        const entries = await collect(store.range(prefix));
        expect(entries.map((entry) => entry.key)).toEqual(expected);
      }
    });

    it("reports its state and refuses use after close with ERR_STORE_CLOSED", async () => {
      expect(store.status().state).toBe("open");
      await store.close();
      expect(store.status().state).toBe("closed");
      expect(await codeOf(store.get(["k"]))).toBe("ERR_STORE_CLOSED");
      expect(await codeOf(store.write([{ type: "delete", key: ["k"] }]))).toBe("ERR_STORE_CLOSED");
      expect(await codeOf(collect(store.range(["k"])))).toBe("ERR_STORE_CLOSED");
      expect(await codeOf(store.deletePrefix(["k"]))).toBe("ERR_STORE_CLOSED");
      await store.close(); // closing twice is harmless
    });

    it("stops a scan that outlives close with ERR_STORE_CLOSED", async () => {
      await put(store, ...Array.from({ length: 600 }, (_, i) => ["s", String(i).padStart(4, "0")]));
      const scan = async () => {
        for await (const _ of store.range(["s"])) await store.close();
      };
      expect(await codeOf(scan())).toBe("ERR_STORE_CLOSED");
    });

    it("keeps data across close and reopen, writes not awaited before close included", async () => {
      if (!context.reopen) return; // a volatile driver has nothing to keep
      await put(store, ["keep", "1"]);
      const unawaited = put(store, ["keep", "2"]);
      await store.close();
      await unawaited;
      store = await context.reopen();
      expect(keysOf(await collect(store.range(["keep"])))).toEqual(["keep/1", "keep/2"]);
      expect(text(await store.get(["keep", "2"]))).toBe("keep/2");
    });
  });
}
