// The embedded default Store on LMDB (lmdb-js): one memory-mapped file in the data directory,
// ACID transactions, writes batched per event turn, acknowledged only once durable.

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Database, open, type RootDatabase } from "lmdb";
import { createError, describeError } from "../protocol/errors.js";
import { acquireDataDirLock, type DataDirLock } from "./data-dir-lock.js";
import type { RangeOptions, Store, StoreEntry, StoreKey, StoreOp, StoreStatus } from "./store.js";
import { type ByteRange, decodeKey, encodeKey, rangeBounds } from "./store-key.js";

/** Options of the LMDB store. */
export interface LmdbStoreOptions {
  /** The data directory; created if missing. The database is `<path>/syncline.mdb`. */
  readonly path: string;
  /**
   * When `write()` resolves. `flush` (default): after the OS reports the transaction on disk —
   * survives power loss. `commit`: once committed and visible — survives kill -9 of this process
   * (the OS holds the pages) but not necessarily an OS crash.
   */
  readonly durability?: "flush" | "commit";
}

/** Entries read per LMDB read transaction during a scan, so slow consumers never pin old pages. */
const scanPageSize = 256;

/** The database file's name inside the data directory. */
export const databaseFileName = "syncline.mdb";

/** Opens (creating if needed) the store in `options.path` and takes the directory lock. */
export async function openLmdbStore(options: LmdbStoreOptions): Promise<Store> {
  try {
    mkdirSync(options.path, { recursive: true });
  } catch (error) {
    throw createError(
      "ERR_STORE_OPEN",
      `store: cannot create data directory ${options.path}: ${describeError(error)}`,
      {
        cause: error,
      },
    );
  }
  const lock = acquireDataDirLock(options.path);
  try {
    // lmdb-js (write.js) with overlappingSync, its default on Linux, resolves a write's promise
    // only after the commit is flushed to disk — unless `separateFlushed` is set, in which case
    // it resolves at commit and carries the flush as `.flushed`. So `commit` durability is
    // exactly `separateFlushed: true`, and `flush` is the default.
    const db = open<Buffer, Buffer>({
      path: join(options.path, databaseFileName),
      keyEncoding: "binary",
      encoding: "binary",
      separateFlushed: options.durability === "commit",
    });
    return new LmdbStore(db, options.path, lock);
  } catch (error) {
    lock.release();
    throw createError(
      "ERR_STORE_OPEN",
      `store: cannot open LMDB in ${options.path}: ${describeError(error)}`,
      {
        cause: error,
      },
    );
  }
}

class LmdbStore implements Store {
  #state: StoreStatus["state"] = "open";

  constructor(
    private readonly db: RootDatabase<Buffer, Buffer>,
    private readonly dir: string,
    private readonly lock: DataDirLock,
  ) {}

  async get(key: StoreKey): Promise<Uint8Array | undefined> {
    this.#assertOpen();
    const value = this.db.get(encodeKey(key));
    return value === undefined ? undefined : Uint8Array.from(value);
  }

  async write(ops: readonly StoreOp[]): Promise<void> {
    this.#assertOpen();
    const encoded = ops.map((op) => encodeKey(op.key));
    try {
      // Writes issued in the same event turn share one transaction and one flush.
      await this.db.transaction(() => {
        ops.forEach((op, i) => {
          const key = encoded[i] as Buffer;
          if (op.type === "put") this.db.put(key, Buffer.from(op.value));
          else this.db.remove(key);
        });
      });
    } catch (error) {
      throw createError(
        "ERR_STORE_WRITE",
        `store: write to ${this.dir} failed: ${describeError(error)}`,
        {
          cause: error,
        },
      );
    }
  }

  async *range(prefix: StoreKey, options: RangeOptions = {}): AsyncIterable<StoreEntry> {
    this.#assertOpen();
    const bounds = rangeBounds(prefix, options);
    const reverse = options.reverse === true;
    let remaining = options.limit ?? Number.POSITIVE_INFINITY;
    let after: Buffer | undefined;
    while (remaining > 0) {
      this.#assertOpen();
      const page = this.#page(bounds, reverse, after, Math.min(scanPageSize, remaining));
      for (const entry of page) yield { key: decodeKey(entry.key), value: entry.value };
      if (page.length < scanPageSize) return;
      remaining -= page.length;
      after = page[page.length - 1]?.key;
    }
  }

  async deletePrefix(prefix: StoreKey): Promise<void> {
    this.#assertOpen();
    if (prefix.length === 0) {
      throw createError("ERR_INVALID_STORE_KEY", "store: deletePrefix needs a non-empty prefix");
    }
    const bounds = rangeBounds(prefix);
    try {
      await this.db.transaction(() => {
        for (const key of this.db.getKeys({ start: bounds.lower, end: bounds.upper })) {
          this.db.remove(key);
        }
      });
    } catch (error) {
      throw createError(
        "ERR_STORE_WRITE",
        `store: delete in ${this.dir} failed: ${describeError(error)}`,
        {
          cause: error,
        },
      );
    }
  }

  async close(): Promise<void> {
    if (this.#state === "closed") return;
    this.#state = "closed";
    try {
      await this.db.flushed;
      await this.db.close();
    } finally {
      this.lock.release();
    }
  }

  status(): StoreStatus {
    return { driver: "lmdb", state: this.#state, location: this.dir };
  }

  /** One page of a scan, read in one short read transaction and copied out. */
  #page(bounds: ByteRange, reverse: boolean, after: Buffer | undefined, limit: number) {
    const range = reverse
      ? {
          start: after ?? bounds.upper,
          exclusiveStart: true,
          end: bounds.lower.length > 0 ? bounds.lower : undefined,
          inclusiveEnd: true,
          reverse: true,
        }
      : {
          start: after ?? (bounds.lower.length > 0 ? bounds.lower : undefined),
          exclusiveStart: after !== undefined,
          end: bounds.upper,
        };
    const page: { key: Buffer; value: Uint8Array }[] = [];
    for (const { key, value } of (this.db as Database<Buffer, Buffer>).getRange({
      ...range,
      limit,
    })) {
      page.push({ key: Buffer.from(key), value: Uint8Array.from(value) });
    }
    return page;
  }

  #assertOpen(): void {
    if (this.#state !== "open") {
      throw createError("ERR_STORE_CLOSED", `store: the store in ${this.dir} is ${this.#state}`);
    }
  }
}
