// A minimal in-memory Store for this folder's unit tests (the import rules keep automerge/ off
// the storage drivers). Keys order segment by segment, which is all the document store needs.

import type { RangeOptions, Store, StoreEntry, StoreKey, StoreOp } from "../../storage/store.js";

const encode = (key: StoreKey) => key.map((segment) => `${segment}\u0000`).join("");

/** Creates an empty map-backed store; `writes` counts write calls. */
export function createMapStore(): Store & { writes: number } {
  const rows = new Map<string, { key: StoreKey; value: Uint8Array }>();
  let closed = false;
  const store = {
    writes: 0,
    async get(key: StoreKey) {
      return rows.get(encode(key))?.value;
    },
    async write(ops: readonly StoreOp[]) {
      if (closed) throw new Error("map store: closed");
      store.writes += 1;
      for (const op of ops) {
        if (op.key.length === 0) {
          throw Object.assign(new Error("map store: empty key"), { code: "ERR_INVALID_STORE_KEY" });
        }
      }
      for (const op of ops) {
        if (op.type === "put") rows.set(encode(op.key), { key: op.key, value: op.value.slice() });
        else rows.delete(encode(op.key));
      }
    },
    async *range(prefix: StoreKey, options: RangeOptions = {}): AsyncIterable<StoreEntry> {
      const start = encode(prefix);
      const keys = [...rows.keys()].filter((k) => k.startsWith(start)).sort();
      if (options.reverse) keys.reverse();
      for (const k of keys.slice(0, options.limit ?? keys.length)) {
        const row = rows.get(k);
        if (row) yield row;
      }
    },
    async deletePrefix(prefix: StoreKey) {
      const start = encode(prefix);
      for (const k of [...rows.keys()]) if (k.startsWith(start)) rows.delete(k);
    },
    async close() {
      closed = true;
    },
    status: () => ({ driver: "map", state: closed ? ("closed" as const) : ("open" as const) }),
  };
  return store;
}
