// Whether a store's writes and reads succeed now. A full disk (or a failing one) refuses writes
// while reads go on, so the server keeps serving what it holds and reports itself degraded; the
// first write that succeeds again ends it. A lost database connection (Postgres) fails reads too,
// which degrades it the same way until a read succeeds. Watches any driver from the outside:
// every call is an attempt, so recovery needs no restart and no probe of its own.

import { isSynclineError, type SynclineError } from "../protocol/errors.js";
import type { RangeOptions, Store, StoreEntry, StoreKey, StoreOp, StoreStatus } from "./store.js";

/** The store's writing operations. */
export type StoreWriteOperation = "write" | "deletePrefix";

/** Hears about write failures and the store's writability changing. */
export interface StoreHealthObserver {
  /** A write or prefix delete the store could not commit (ERR_STORE_WRITE). */
  writeFailed?(operation: StoreWriteOperation, error: SynclineError): void;
  /** Writes started failing (`writable` false, with the failure) or succeed again (true). */
  writableChanged?(writable: boolean, error?: SynclineError): void;
  /** Reads started failing (ERR_STORE_READ: false, with the failure) or succeed again (true). */
  readableChanged?(readable: boolean, error?: SynclineError): void;
}

/** What is known of the store's writes (or reads) now. */
interface Health {
  readonly ok: boolean;
  readonly lastError?: string;
  readonly failingSince?: string;
}

/**
 * `store` with its write health watched: its status says whether it is `writable` (and since
 * when it is not), and `observer` hears of each failure and each change. Only storage faults
 * (ERR_STORE_WRITE) count: a closed store or an invalid key says nothing about the disk.
 */
export function watchStoreHealth(store: Store, observer: StoreHealthObserver = {}): Store {
  return new HealthWatchedStore(store, observer);
}

class HealthWatchedStore implements Store {
  readonly #store: Store;
  readonly #observer: StoreHealthObserver;
  #writes: Health = { ok: true };
  #reads: Health = { ok: true };

  /** Absent when the driver has none; a probe's outcome counts like a read's. */
  readonly probe: (() => Promise<void>) | undefined;

  constructor(store: Store, observer: StoreHealthObserver) {
    this.#store = store;
    this.#observer = observer;
    this.probe = store.probe && (() => this.#probe());
  }

  async #probe(): Promise<void> {
    try {
      await this.#store.probe?.();
      this.#readSucceeded();
    } catch (error) {
      this.#readFailed(error);
      throw error;
    }
  }

  async get(key: StoreKey): Promise<Uint8Array | undefined> {
    try {
      const value = await this.#store.get(key);
      this.#readSucceeded();
      return value;
    } catch (error) {
      this.#readFailed(error);
      throw error;
    }
  }

  write(ops: readonly StoreOp[]): Promise<void> {
    return this.#watch("write", () => this.#store.write(ops));
  }

  async *range(prefix: StoreKey, options?: RangeOptions): AsyncIterable<StoreEntry> {
    try {
      yield* this.#store.range(prefix, options);
    } catch (error) {
      this.#readFailed(error);
      throw error;
    }
    this.#readSucceeded();
  }

  deletePrefix(prefix: StoreKey): Promise<void> {
    return this.#watch("deletePrefix", () => this.#store.deletePrefix(prefix));
  }

  close(): Promise<void> {
    return this.#store.close();
  }

  status(): StoreStatus {
    const writes = this.#writes;
    const reads = this.#reads;
    const failing = [writes, reads].filter((health) => !health.ok);
    const since = failing.map((health) => health.failingSince as string).sort()[0];
    return {
      ...this.#store.status(),
      writable: writes.ok,
      ...(reads.ok ? {} : { readable: false as const }),
      ...(failing.length === 0
        ? {}
        : { lastError: (writes.ok ? reads : writes).lastError, failingSince: since }),
    };
  }

  /** Runs `attempt` and settles as it does, having recorded what its outcome says. */
  async #watch(operation: StoreWriteOperation, attempt: () => Promise<void>): Promise<void> {
    try {
      await attempt();
    } catch (error) {
      if (isSynclineError(error, "ERR_STORE_WRITE")) this.#failed(operation, error);
      throw error;
    }
    if (!this.#writes.ok) {
      this.#writes = { ok: true };
      this.#observer.writableChanged?.(true);
    }
  }

  #readSucceeded(): void {
    if (this.#reads.ok) return;
    this.#reads = { ok: true };
    this.#observer.readableChanged?.(true);
  }

  /** Only a storage fault (ERR_STORE_READ) counts: a closed store or a bad key is none. */
  #readFailed(error: unknown): void {
    if (!isSynclineError(error, "ERR_STORE_READ")) return;
    const wasReadable = this.#reads.ok;
    this.#reads = failure(this.#reads, error);
    if (wasReadable) this.#observer.readableChanged?.(false, error);
  }

  #failed(operation: StoreWriteOperation, error: SynclineError): void {
    this.#observer.writeFailed?.(operation, error);
    const wasWritable = this.#writes.ok;
    this.#writes = failure(this.#writes, error);
    if (wasWritable) this.#observer.writableChanged?.(false, error);
  }
}

/** `health` after another failure: failing since its first. */
function failure(health: Health, error: SynclineError): Health {
  return {
    ok: false,
    lastError: error.code,
    failingSince: health.failingSince ?? new Date().toISOString(),
  };
}
