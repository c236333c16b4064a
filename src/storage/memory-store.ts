// An in-memory Store for unit tests and embedding: the same semantics as the durable drivers
// (ordering, atomic batches, copies in and out), nothing kept across restarts.

import { createError } from "../protocol/errors.js";
import type { RangeOptions, Store, StoreEntry, StoreKey, StoreOp, StoreStatus } from "./store.js";
import { type ByteRange, decodeKey, encodeKey, inRange, rangeBounds } from "./store-key.js";

interface Row {
  readonly key: Buffer;
  value: Uint8Array;
}

/** Creates an empty in-memory store. */
export function createMemoryStore(): Store {
  return new MemoryStore();
}

class MemoryStore implements Store {
  /** Rows sorted by encoded key; binary search keeps get/put at O(log n) plus the splice. */
  readonly #rows: Row[] = [];
  #closed = false;

  async get(key: StoreKey): Promise<Uint8Array | undefined> {
    this.#assertOpen();
    const encoded = encodeKey(key);
    const index = this.#search(encoded);
    const row = this.#rows[index];
    return row?.key.equals(encoded) ? Uint8Array.from(row.value) : undefined;
  }

  async write(ops: readonly StoreOp[]): Promise<void> {
    this.#assertOpen();
    // Encode every key first so an invalid one rejects the batch before anything applies.
    const encoded = ops.map((op) => encodeKey(op.key));
    ops.forEach((op, i) => {
      const key = encoded[i] as Buffer;
      const index = this.#search(key);
      const exists = this.#rows[index]?.key.equals(key) === true;
      if (op.type === "put") {
        const value = Uint8Array.from(op.value);
        if (exists) (this.#rows[index] as Row).value = value;
        else this.#rows.splice(index, 0, { key, value });
      } else if (exists) {
        this.#rows.splice(index, 1);
      }
    });
  }

  async *range(prefix: StoreKey, options: RangeOptions = {}): AsyncIterable<StoreEntry> {
    this.#assertOpen();
    const bounds = rangeBounds(prefix, options);
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    let last: Buffer | undefined;
    for (let count = 0; count < limit; count++) {
      const row = this.#next(bounds, last, options.reverse === true);
      if (!row) return;
      last = row.key;
      yield { key: decodeKey(row.key), value: Uint8Array.from(row.value) };
      this.#assertOpen();
    }
  }

  async deletePrefix(prefix: StoreKey): Promise<void> {
    this.#assertOpen();
    const bounds = rangeBounds(prefix);
    if (prefix.length === 0) {
      throw createError("ERR_INVALID_STORE_KEY", "store: deletePrefix needs a non-empty prefix");
    }
    const from = this.#search(bounds.lower);
    let to = from;
    while (to < this.#rows.length && inRange((this.#rows[to] as Row).key, bounds)) to++;
    this.#rows.splice(from, to - from);
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  status(): StoreStatus {
    return { driver: "memory", state: this.#closed ? "closed" : "open" };
  }

  /** The entry after `last` (or the first) within bounds, walking forward or backward. */
  #next(bounds: ByteRange, last: Buffer | undefined, reverse: boolean): Row | undefined {
    let index: number;
    if (!reverse) {
      index = last === undefined ? this.#search(bounds.lower) : this.#searchAfter(last);
    } else if (last !== undefined) {
      index = this.#search(last) - 1;
    } else {
      index = bounds.upper === undefined ? this.#rows.length - 1 : this.#search(bounds.upper) - 1;
    }
    const row = this.#rows[index];
    return row && inRange(row.key, bounds) ? row : undefined;
  }

  /** The index of the first row whose key is >= `key`. */
  #search(key: Buffer): number {
    let low = 0;
    let high = this.#rows.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (Buffer.compare((this.#rows[mid] as Row).key, key) < 0) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  /** The index of the first row whose key is > `key`. */
  #searchAfter(key: Buffer): number {
    const index = this.#search(key);
    return this.#rows[index]?.key.equals(key) ? index + 1 : index;
  }

  #assertOpen(): void {
    if (this.#closed) throw createError("ERR_STORE_CLOSED", "store: the memory store is closed");
  }
}
