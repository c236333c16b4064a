// The storage layer's public API: the Store interface, its drivers and the key encoding.

export { acquireDataDirLock, type DataDirLock, lockFileName } from "./data-dir-lock.js";
export { databaseFileName, type LmdbStoreOptions, openLmdbStore } from "./lmdb-store.js";
export { createMemoryStore } from "./memory-store.js";
export type {
  RangeOptions,
  Store,
  StoreEntry,
  StoreKey,
  StoreOp,
  StoreStatus,
} from "./store.js";
export { decodeKey, encodeKey, maxEncodedKeyBytes } from "./store-key.js";
