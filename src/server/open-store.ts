// The store a server's settings name: Postgres when `--postgres` is set (its driver is loaded
// only then), else the embedded LMDB store in the data directory. `syncline serve` and
// `syncline data` open it the same way.

import { openLmdbStore } from "../storage/lmdb-store.js";
import type { Store } from "../storage/store.js";
import type { ServerConfig } from "./config.js";

/** The settings that choose and open the store. */
export type StoreConfig = Pick<ServerConfig, "dataDir" | "durability" | "postgres">;

/**
 * Opens the configured store. `onIdleError` hears errors of idle Postgres connections (the
 * database restarted), which no call is waiting on.
 */
export async function openConfiguredStore(
  config: StoreConfig,
  onIdleError: (error: Error) => void = () => {},
): Promise<Store> {
  if (config.postgres === undefined) {
    return openLmdbStore({ path: config.dataDir, durability: config.durability });
  }
  const { openPostgresStore } = await import("../storage/postgres-store.js");
  return openPostgresStore({ url: config.postgres, onError: onIdleError });
}
