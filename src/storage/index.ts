// The storage package's public surface: the Store interface, its drivers and the key encoding
// they share. The conformance suite is exported apart, as `syncline/storage/testing`.

export {
  databaseFileName,
  type LmdbDurability,
  type LmdbStoreOptions,
  openLmdbStore,
} from "./lmdb-store.js";
export { createMemoryStore } from "./memory-store.js";
export { openPostgresStore, type PostgresStoreOptions } from "./postgres-store.js";
export type {
  RangeOptions,
  Store,
  StoreEntry,
  StoreKey,
  StoreOp,
  StoreStatus,
} from "./store.js";
export {
  assertValidStoreKey,
  type ByteRange,
  decodeKey,
  encodeKey,
  maxEncodedKeyBytes,
  prefixRangeBounds,
} from "./store-key.js";
