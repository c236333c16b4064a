// Whether a store's writes succeed now. A full disk (or a failing one) refuses writes while reads
// go on, so the server keeps serving what it holds and reports itself degraded; the first write
// that succeeds again ends it. Watches any driver from the outside: every write and prefix delete
// is an attempt, so recovery needs no restart and no probe of its own.

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
}

/** What is known of the store's writes now. */
interface WriteHealth {
  readonly writable: boolean;
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
  #health: WriteHealth = { writable: true };

  constructor(store: Store, observer: StoreHealthObserver) {
    this.#store = store;
    this.#observer = observer;
  }

  get(key: StoreKey): Promise<Uint8Array | undefined> {
    return this.#store.get(key);
  }

  write(ops: readonly StoreOp[]): Promise<void> {
    return this.#watch("write", () => this.#store.write(ops));
  }

  range(prefix: StoreKey, options?: RangeOptions): AsyncIterable<StoreEntry> {
    return this.#store.range(prefix, options);
  }

  deletePrefix(prefix: StoreKey): Promise<void> {
    return this.#watch("deletePrefix", () => this.#store.deletePrefix(prefix));
  }

  close(): Promise<void> {
    return this.#store.close();
  }

  status(): StoreStatus {
    return { ...this.#store.status(), ...this.#health };
  }

  /** Runs `attempt` and settles as it does, having recorded what its outcome says. */
  async #watch(operation: StoreWriteOperation, attempt: () => Promise<void>): Promise<void> {
    try {
      await attempt();
    } catch (error) {
      if (isSynclineError(error, "ERR_STORE_WRITE")) this.#failed(operation, error);
      throw error;
    }
    if (!this.#health.writable) {
      this.#health = { writable: true };
      this.#observer.writableChanged?.(true);
    }
  }

  #failed(operation: StoreWriteOperation, error: SynclineError): void {
    this.#observer.writeFailed?.(operation, error);
    const wasWritable = this.#health.writable;
    this.#health = {
      writable: false,
      lastError: error.code,
      failingSince: this.#health.failingSince ?? new Date().toISOString(),
    };
    if (wasWritable) this.#observer.writableChanged?.(false, error);
  }
}
