// `syncline sync`'s settings: its flags over the config file's [sync] table over the defaults,
// from the one table of client settings (client-settings.ts).

import { createError } from "../protocol/errors.js";
import { fileTable, readConfigFile } from "../server/config-file.js";
import { configTables, resolveClientSettings, syncSettings } from "./client-settings.js";
import { type Connection, connectionOf } from "./connection.js";
import type { CliIo } from "./io.js";
import { settingFlags } from "./setting-options.js";

/** Resolved settings. */
export interface SyncSettings {
  /** The server as given (`--server` > `[sync] server` > wss://sync.automerge.org). */
  readonly server: string;
  /** The parsed server, --ca, --retries and --timeout. */
  readonly connection: Connection;
  /** `[sync] token`, sent as `?token=`; absent by default. */
  readonly token: string | undefined;
  /** The config file read, if any. */
  readonly configPath: string | undefined;
}

/**
 * Reads the config file (if any) and the flags. `[sync] enabled = false` throws
 * ERR_SYNC_DISABLED (exit 6) before anything else is checked.
 */
export function resolveSyncSettings(
  flags: Readonly<Record<string, unknown>> & { readonly config?: string | undefined },
  io: CliIo,
): SyncSettings {
  const file = readConfigFile(flags.config, io.env, configTables);
  const table = fileTable(file, "sync");
  if (table?.values.enabled === false) {
    throw createError(
      "ERR_SYNC_DISABLED",
      `sync: disabled by sync.enabled = false in ${table.path}`,
    );
  }
  const { values, configPath } = resolveClientSettings(
    "sync",
    syncSettings,
    { ...settingFlags(syncSettings, flags), config: flags.config },
    io,
    file,
  );
  return {
    server: values.server,
    connection: connectionOf(values),
    token: values.token,
    configPath,
  };
}
