// An in-memory Store for unit tests: the same semantics as the durable drivers (byte order,
// atomic ordered batches, copies in and out, closed state), nothing kept across restarts.

import { createError } from "../protocol/errors.js";
import type { RangeOptions, Store, StoreEntry, StoreKey, StoreOp, StoreStatus } from "./store.js";
import { conflictError, encodeBatch, expectationHolds } from "./store-batch.js";
import {
  type ByteRange,
  decodeKey,
  encodeKey,
  inByteRange,
  prefixRangeBounds,
  rangeLimit,
} from "./store-key.js";

interface Row {
  readonly key: Buffer;
  value: Buffer;
}

/** Creates an empty in-memory store; `status().driver` is "memory". */
export function createMemoryStore(): Store {
  return new MemoryStore();
}

class MemoryStore implements Store {
  /** Rows sorted by encoded key: binary search finds a key or a scan position in O(log n). */
  readonly #rows: Row[] = [];
  #closed = false;

  async get(key: StoreKey): Promise<Uint8Array | undefined> {
    this.#assertOpen();
    const encoded = encodeKey(key);
    const row = this.#rows[this.#search(encoded)];
    return row?.key.equals(encoded) ? new Uint8Array(row.value) : undefined;
  }

  async write(ops: readonly StoreOp[]): Promise<void> {
    this.#assertOpen();
    // Applied synchronously, before the first await: calls take effect in call order.
    const batch = encodeBatch(ops);
    for (const expect of batch.expects) {
      const row = this.#rows[this.#search(expect.key)];
      const current = row?.key.equals(expect.key) ? row.value : undefined;
      if (!expectationHolds(expect, current)) throw conflictError(expect, current);
    }
    for (const { key, value } of batch.ops) {
      const index = this.#search(key);
      const row = this.#rows[index];
      if (row?.key.equals(key)) {
        if (value === undefined) this.#rows.splice(index, 1);
        else row.value = value;
      } else if (value !== undefined) {
        this.#rows.splice(index, 0, { key, value });
      }
    }
  }

  async *range(prefix: StoreKey, options: RangeOptions = {}): AsyncIterable<StoreEntry> {
    this.#assertOpen();
    const bounds = prefixRangeBounds(prefix, options);
    const limit = rangeLimit(options);
    const reverse = options.reverse === true;
    let last: Buffer | undefined;
    // Each step searches afresh from the last key yielded, so writes between steps never make
    // the scan skip, repeat or reorder entries.
    for (let count = 0; count < limit; count++) {
      const row = this.#next(bounds, last, reverse);
      if (!row) return;
      last = row.key;
      yield { key: decodeKey(row.key), value: new Uint8Array(row.value) };
      this.#assertOpen();
    }
  }

  async deletePrefix(prefix: StoreKey): Promise<void> {
    this.#assertOpen();
    const bounds = prefixRangeBounds(prefix);
    if (prefix.length === 0) {
      throw createError("ERR_INVALID_STORE_KEY", "store: deletePrefix needs a non-empty prefix");
    }
    const from = this.#search(bounds.start);
    const to = bounds.end === undefined ? this.#rows.length : this.#search(bounds.end);
    this.#rows.splice(from, to - from);
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  status(): StoreStatus {
    return { driver: "memory", state: this.#closed ? "closed" : "open" };
  }

  /** The row after `last` (or the first one) within bounds, walking forward or backward. */
  #next(bounds: ByteRange, last: Buffer | undefined, reverse: boolean): Row | undefined {
    let index: number;
    if (!reverse) {
      index = last === undefined ? this.#search(bounds.start) : this.#searchAfter(last);
    } else if (last !== undefined) {
      index = this.#search(last) - 1;
    } else {
      index = bounds.end === undefined ? this.#rows.length - 1 : this.#search(bounds.end) - 1;
    }
    const row = this.#rows[index];
    return row && inByteRange(row.key, bounds) ? row : undefined;
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
