// The embedded default Store on LMDB (lmdb-js): one memory-mapped file in the data directory,
// writes of one event turn batched into one transaction, each acknowledged once durable.

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { ABORT, open, type RootDatabase } from "lmdb";
import { createError, describeError } from "../protocol/errors.js";
import { checkLmdbFile } from "./check-lmdb-file.js";
import { acquireDataDirLock, type DataDirLock } from "./data-dir-lock.js";
import {
  commitFailureCause,
  commitNothing,
  describeLmdbError,
  guardTurnCommits,
} from "./lmdb-commit-failures.js";
import { pagedScan, type ScanPage } from "./paged-scan.js";
import type { RangeOptions, Store, StoreEntry, StoreKey, StoreOp, StoreStatus } from "./store.js";
import {
  conflictError,
  type EncodedBatch,
  type EncodedExpect,
  encodeBatch,
  expectationHolds,
} from "./store-batch.js";
import { type ByteRange, decodeKey, encodeKey, prefixRangeBounds } from "./store-key.js";

/*
 * What lmdb-js 3.5.6 guarantees when a write's promise resolves (read in node_modules/lmdb,
 * confirmed with strace: fdatasync and the O_DSYNC meta write come before the resolution):
 *
 * - open.js:105-106: `overlappingSync` defaults to on except on Windows (and with noSync).
 *   writer.cpp:473-475: the write thread then begins each transaction with MDB_NOSYNC.
 * - mdb.c:5119-5165 (mdb_txn_commit, overlapping case): once the transaction is written and
 *   visible (mdb.c:5096), the write lock is released (writer.cpp:431-441) so the next
 *   transaction can run, and commit itself goes on to fdatasync the file and write the
 *   "flushed" meta page through the O_DSYNC descriptor (unless a concurrent sync already
 *   covered it), then returns. Without overlappingSync, mdb.c:5078-5080 syncs before the meta
 *   write: durable on return as well.
 * - writer.cpp:527 sets TXN_COMMITTED only after mdb_txn_commit returned, and write.js:539-597
 *   (resolveWrites/resolveCommit) resolves put/batch/transaction promises on that flag. So a
 *   write's promise resolves only once its transaction is on disk: overlappingSync overlaps the
 *   sync with the *next* transaction, it does not acknowledge earlier.
 * - `separateFlushed` (write.js:468-483) only hangs `.flushed` on the promise; the native
 *   SEPARATE_FLUSHED flag (src/lmdb-js.h:216) is never read. `db.flushed` (write.js:1049-1057)
 *   is the flush promise of the latest transaction, resolved when the write worker finishes
 *   (write.js:502-505), after the same sync.
 *
 * Hence both levels below resolve after the fdatasync with this lmdb-js; "commit" costs the
 * same as "flush". "flush" also awaits the transaction's flush promise (taken synchronously,
 * right after issuing the write, so it is the one of the transaction the write joined), which
 * keeps it true should a later lmdb-js resolve commits before syncing, as its README describes.
 * After kill -9, lmdb-js reopens on the latest committed meta (same boot id); after a power
 * loss, on the latest flushed one.
 *
 * `strictAsyncOrder` is required: without it lmdb-js runs a transaction callback (deletePrefix)
 * after the batches queued behind it in the same transaction, so a put issued after a
 * deletePrefix would be deleted by it (verified).
 *
 * A failed commit (full disk, I/O error) rejects the writes of its transaction and nothing of it
 * is applied; LMDB itself stays usable, and once space is back the next commit succeeds (verified
 * on a full tmpfs, the committed data intact after a reopen). lmdb-js leaves two promises of such
 * a failure unhandled; lmdb-commit-failures.ts explains and handles them.
 *
 * Error messages name no path: they reach clients inside 503 answers. The data directory is
 * named only when the store cannot be opened, which only the operator sees.
 */

/** When `write()` and `deletePrefix()` resolve; see the note above for lmdb-js 3.5.6. */
export type LmdbDurability = "flush" | "commit";

/** Options of the LMDB store. */
export interface LmdbStoreOptions {
  /** The data directory, created (recursively) if missing; holds `syncline.mdb`. */
  readonly path: string;
  /**
   * `flush` (default): writes resolve once the OS reports them on disk, surviving power loss and
   * OS crashes. `commit`: once committed and visible, surviving kill -9 of this process (the OS
   * holds the pages) but not necessarily a power loss. With lmdb-js 3.5.6 a commit already waits
   * for the disk, so both cost the same today (see the note at the top of lmdb-store.ts).
   */
  readonly durability?: LmdbDurability;
  /** Initial size of the memory map in bytes. Default: lmdb-js's, which grows as needed. */
  readonly mapSize?: number;
}

/** The database file's name inside the data directory (LMDB adds `syncline.mdb-lock`). */
export const databaseFileName = "syncline.mdb";

/** Entries read per LMDB read transaction in a scan, so a slow consumer never pins old pages. */
const scanPageSize = 256;

/**
 * Opens (creating if needed) the store in `options.path`, taking the data-directory lock.
 * Rejects with ERR_DATA_DIR_LOCKED when another running process holds the directory, with
 * ERR_STORE_OPEN when the directory or database cannot be created or opened, and with
 * ERR_INVALID_CONFIG for an unknown durability level or a bad map size.
 */
export async function openLmdbStore(options: LmdbStoreOptions): Promise<Store> {
  const { path: dir, durability = "flush", mapSize } = options;
  assertOptions(durability, mapSize);
  makeDataDir(dir);
  const lock = acquireDataDirLock(dir);
  try {
    const file = join(dir, databaseFileName);
    checkLmdbFile(file); // lmdb-js would crash the process on a file LMDB refuses
    return new LmdbStore(openDatabase(file, mapSize), durability, lock);
  } catch (error) {
    lock.release();
    throw error;
  }
}

function assertOptions(durability: LmdbDurability, mapSize: number | undefined): void {
  if (durability !== "flush" && durability !== "commit") {
    throw createError(
      "ERR_INVALID_CONFIG",
      `store: durability ${JSON.stringify(durability)} is not "flush" or "commit"`,
    );
  }
  if (mapSize !== undefined && !(Number.isSafeInteger(mapSize) && mapSize > 0)) {
    throw createError("ERR_INVALID_CONFIG", `store: map size ${mapSize} is not a positive integer`);
  }
}

function openDatabase(file: string, mapSize: number | undefined): RootDatabase<Buffer, Buffer> {
  try {
    return open<Buffer, Buffer>({
      path: file,
      keyEncoding: "binary",
      encoding: "binary",
      strictAsyncOrder: true,
      ...(mapSize === undefined ? {} : { mapSize }),
    });
  } catch (error) {
    throw createError(
      "ERR_STORE_OPEN",
      `store: cannot open LMDB database ${file}: ${describeError(error)}`,
      { cause: error },
    );
  }
}

/** Creates the data directory (and missing parents) 0700: it holds every document and share. */
function makeDataDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw createError(
      "ERR_STORE_OPEN",
      `store: cannot create data directory ${dir}: ${describeError(error)}`,
      { cause: error },
    );
  }
}

class LmdbStore implements Store {
  readonly #db: RootDatabase<Buffer, Buffer>;
  readonly #durability: LmdbDurability;
  readonly #lock: DataDirLock;
  #state: StoreStatus["state"] = "open";
  /** Writes not yet durable; `close()` waits for them. */
  readonly #pending = new Set<Promise<void>>();
  /** True when the write that settled last failed: its transaction's flush never settles. */
  #lastCommitFailed = false;
  #closing: Promise<void> | undefined;

  constructor(db: RootDatabase<Buffer, Buffer>, durability: LmdbDurability, lock: DataDirLock) {
    this.#db = db;
    this.#durability = durability;
    this.#lock = lock;
    guardTurnCommits(db);
  }

  async get(key: StoreKey): Promise<Uint8Array | undefined> {
    this.#assertOpen();
    const encoded = encodeKey(key);
    let value: Buffer | undefined;
    try {
      value = this.#db.get(encoded);
    } catch (error) {
      throw this.#readError(error);
    }
    return value === undefined ? undefined : new Uint8Array(value);
  }

  async write(ops: readonly StoreOp[]): Promise<void> {
    this.#assertOpen();
    const batch = encodeBatch(ops);
    if (batch.expects.length > 0) return this.#writeIf(batch);
    if (batch.ops.length === 0) return;
    // db.batch joins this event turn's transaction: concurrent writes share one commit and sync.
    await this.#durable("write", () =>
      this.#db.batch(() => {
        for (const { key, value } of batch.ops) {
          if (value === undefined) this.#db.remove(key);
          else this.#db.put(key, value);
        }
      }),
    );
  }

  /**
   * A batch with conditions: a child transaction of this turn's write transaction reads the
   * expected keys as they are then (earlier writes of the turn included) and aborts, alone, when
   * one differs.
   */
  async #writeIf(batch: EncodedBatch): Promise<void> {
    let conflict: { expect: EncodedExpect; current: Uint8Array | undefined } | undefined;
    await this.#durable("write", () =>
      this.#db.childTransaction(() => {
        for (const expect of batch.expects) {
          const current = this.#db.get(expect.key) as Buffer | undefined;
          if (!expectationHolds(expect, current)) {
            conflict = { expect, current };
            return ABORT;
          }
        }
        for (const { key, value } of batch.ops) {
          if (value === undefined) this.#db.remove(key);
          else this.#db.put(key, value);
        }
        return undefined;
      }),
    );
    if (conflict !== undefined) throw conflictError(conflict.expect, conflict.current);
  }

  range(prefix: StoreKey, options: RangeOptions = {}): AsyncIterable<StoreEntry> {
    return pagedScan(
      prefix,
      options,
      scanPageSize,
      (bounds, reverse, after, limit) => this.#readPage(bounds, reverse, after, limit),
      () => this.#assertOpen(),
    );
  }

  async deletePrefix(prefix: StoreKey): Promise<void> {
    this.#assertOpen();
    const { start, end } = prefixRangeBounds(prefix);
    if (prefix.length === 0) {
      throw createError("ERR_INVALID_STORE_KEY", "store: deletePrefix needs a non-empty prefix");
    }
    // A child transaction inside this turn's write transaction: the keys are read and removed
    // in it, and any failure aborts just this call's removals.
    await this.#durable("deletePrefix", () =>
      this.#db.childTransaction(() => {
        const keys = Array.from(this.#db.getKeys({ start, end }), (key) => Buffer.from(key));
        for (const key of keys) this.#db.remove(key);
      }),
    );
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  status(): StoreStatus {
    return { driver: "lmdb", state: this.#state };
  }

  /** Issues a write with `issue` and resolves once it is durable at this store's level. */
  async #durable(what: string, issue: () => PromiseLike<unknown>): Promise<void> {
    let committed: PromiseLike<unknown>;
    let flushed: Promise<unknown> | undefined;
    try {
      committed = issue();
      // Read now, in the same synchronous turn, so it is the flush of the transaction just joined.
      if (this.#durability === "flush") flushed = settle(this.#db.flushed);
    } catch (error) {
      throw this.#writeError(what, error);
    }
    const done = (async () => {
      await committed;
      await flushed;
    })();
    this.#pending.add(done);
    try {
      await done;
      this.#lastCommitFailed = false;
    } catch (error) {
      this.#lastCommitFailed = true;
      throw this.#writeError(what, await commitFailureCause(error));
    } finally {
      this.#pending.delete(done);
    }
  }

  /** Reads up to `limit` entries after `after` in one short read transaction. */
  #readPage(
    bounds: ByteRange,
    reverse: boolean,
    after: Buffer | undefined,
    limit: number,
  ): ScanPage {
    const low = bounds.start.length > 0 ? bounds.start : undefined;
    // Reverse scans start at the high bound; lmdb-js then takes `end` as the low bound.
    const from = after ?? (reverse ? bounds.end : low);
    const to = reverse ? low : bounds.end;
    const query = {
      reverse,
      limit,
      ...(from === undefined
        ? {}
        : { start: from, exclusiveStart: after !== undefined || reverse }),
      ...(to === undefined ? {} : { end: to, inclusiveEnd: reverse }),
    };
    const entries: StoreEntry[] = [];
    let lastKey: Buffer | undefined;
    try {
      for (const { key, value } of this.#db.getRange(query)) {
        entries.push({ key: decodeKey(key), value: new Uint8Array(value) });
        lastKey = key;
      }
    } catch (error) {
      throw this.#readError(error);
    }
    return { entries, lastKey: lastKey && Buffer.from(lastKey) };
  }

  async #close(): Promise<void> {
    this.#state = "closed";
    try {
      await Promise.allSettled(this.#pending);
      // After a failed commit (a full disk) lmdb-js would wait for its flush forever.
      if (this.#lastCommitFailed) await commitNothing(this.#db);
      await this.#db.flushed;
      await this.#db.close();
    } catch (error) {
      throw createError(
        "ERR_STORE_WRITE",
        `store: closing the LMDB database failed: ${describeLmdbError(error)}`,
        { cause: error },
      );
    } finally {
      this.#lock.release();
    }
  }

  #assertOpen(): void {
    if (this.#state !== "open") {
      throw createError("ERR_STORE_CLOSED", "store: the LMDB store is closed");
    }
  }

  #writeError(what: string, error: unknown) {
    return createError(
      "ERR_STORE_WRITE",
      `store: ${what} to the LMDB database failed: ${describeLmdbError(error)}`,
      { cause: error },
    );
  }

  #readError(error: unknown) {
    return createError(
      "ERR_STORE_READ",
      `store: reading the LMDB database failed: ${describeLmdbError(error)}`,
      { cause: error },
    );
  }
}

/** A real promise for lmdb-js's `flushed` thenable, its `then` called now; never unhandled. */
function settle(thenable: PromiseLike<unknown>): Promise<unknown> {
  const promise = new Promise((resolve, reject) => {
    thenable.then(resolve, reject);
  });
  promise.catch(() => {}); // awaited by the caller unless the commit failed first
  return promise;
}
