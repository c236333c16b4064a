// The storage interface every driver implements (lmdb embedded, postgres shared, memory for
// tests). It is deliberately small: chunking, compaction and encodings live above it.

/**
 * A key is a path of non-empty string segments, e.g. `["doc", documentId, "chunk", "0000002a"]`.
 * Keys order segment by segment, each segment by its UTF-8 bytes, a key before its extensions;
 * callers that need numeric order encode numbers as fixed-width strings. Segments must be
 * well-formed UTF-16 (no lone surrogates), and a key may take at most 1978 bytes once encoded
 * (`encodeKey` in store-key.ts); other keys are ERR_INVALID_STORE_KEY.
 */
export type StoreKey = readonly string[];

/**
 * One operation of an atomic batch. An `expect` is a condition, not a change: the batch applies
 * only if `key` holds exactly `value` (undefined: no entry) at the moment it is applied, checked
 * atomically with the batch (Postgres: the row is locked in the batch's transaction); otherwise
 * nothing of it applies and `write` rejects with ERR_STORE_CONFLICT. Every `expect` of a batch
 * is checked against the state before the batch, wherever it stands in it. Nodes sharing one
 * store use it to take turns (a share's next seq is written once, by one node).
 */
export type StoreOp =
  | { readonly type: "put"; readonly key: StoreKey; readonly value: Uint8Array }
  | { readonly type: "delete"; readonly key: StoreKey }
  | { readonly type: "expect"; readonly key: StoreKey; readonly value: Uint8Array | undefined };

/** One stored entry, as yielded by `range`. */
export interface StoreEntry {
  readonly key: StoreKey;
  readonly value: Uint8Array;
}

/** Options of a range scan; bounds must lie under the scanned prefix. */
export interface RangeOptions {
  /** First key to include (inclusive); default: the start of the prefix. */
  readonly start?: StoreKey;
  /** Key to stop before (exclusive); default: the end of the prefix. */
  readonly end?: StoreKey;
  /** Newest-first order (descending keys). Default false. */
  readonly reverse?: boolean;
  /** Stop after this many entries. Default: no limit. */
  readonly limit?: number;
}

/**
 * What `/healthz` reports of a store. It names no place (directory, database URL): `/healthz` is
 * public, and a server path is not its business.
 */
export interface StoreStatus {
  /** The driver's name: "lmdb", "memory", "postgres". */
  readonly driver: string;
  /** "open" while usable; "closed" after `close()`; "failed" after an unrecoverable error. */
  readonly state: "open" | "closed" | "failed";
  /**
   * False while writes fail (a full disk, an I/O error) though the store is open and reads work;
   * true again once a write succeeds. Absent when nobody watches (store-health.ts adds it).
   */
  readonly writable?: boolean;
  /**
   * Present, and false, while reads fail though the store is open (a lost connection to the
   * database); gone once a read succeeds again. Set by store-health.ts, like `writable`.
   */
  readonly readable?: false;
  /** While not writable or not readable: the code of the last failure (`ERR_STORE_…`). */
  readonly lastError?: string;
  /** While not writable or not readable: when the failures started, ISO 8601. */
  readonly failingSince?: string;
}

/**
 * A durable key-value store. Every method rejects with a SynclineError (`ERR_STORE_…`) rather
 * than a driver's own error. Writes resolve only when durable at the driver's documented level.
 * `write` and `deletePrefix` calls take effect in the order they are made, even when the caller
 * does not wait for one before making the next.
 */
export interface Store {
  /** The value at `key`, or undefined. */
  get(key: StoreKey): Promise<Uint8Array | undefined>;
  /**
   * Applies every operation atomically (all or none), in order; resolves once durable. Rejects
   * with ERR_STORE_CONFLICT, having applied nothing, when an `expect` of the batch does not hold.
   */
  write(ops: readonly StoreOp[]): Promise<void>;
  /**
   * The entries whose keys start with `prefix` (the key equal to it included; `[]` scans
   * everything), in key order or reversed. Reads in short transactions: entries written during
   * the scan may or may not be seen, but the order holds and nothing is seen twice.
   */
  range(prefix: StoreKey, options?: RangeOptions): AsyncIterable<StoreEntry>;
  /** Deletes every entry whose key starts with `prefix` (a non-empty prefix), atomically. */
  deletePrefix(prefix: StoreKey): Promise<void>;
  /** Flushes pending writes and releases the store; later calls reject with ERR_STORE_CLOSED. */
  close(): Promise<void>;
  /** The store's state for health checks; never throws. */
  status(): StoreStatus;
  /**
   * Checks that the store can be reached now, for a driver whose storage can go away on its own
   * (a database server): rejects with ERR_STORE_READ when it cannot. Absent for embedded drivers.
   */
  probe?(): Promise<void>;
}
