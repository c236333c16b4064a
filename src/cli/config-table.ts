// One command's table of the config file ([sync], [share]): found the usual way (--config,
// SYNCLINE_CONFIG, the XDG path), empty without a file, and a stderr warning for keys the
// command does not know (they are skipped, not refused).

import { serverFileKeys } from "../server/config.js";
import { findConfigFile, loadConfigFile } from "../server/config-file.js";
import type { CliIo } from "./io.js";

/** A command's config table and the file it came from. */
export interface ConfigTable {
  /** The config file's path; undefined when there is no config file. */
  readonly path: string | undefined;
  /** The table's keys and values; empty when the file has no such table. */
  readonly values: Readonly<Record<string, unknown>>;
}

/** Reads the `[name]` table of the config file `config` (or the default one) for a command. */
export function readConfigTable(
  name: "sync" | "share",
  known: readonly string[],
  config: string | undefined,
  io: CliIo,
): ConfigTable {
  const found = findConfigFile(config, io.env);
  const values = (found && loadConfigFile(found.path, serverFileKeys)[name]) ?? {};
  for (const key of Object.keys(values)) {
    if (!known.includes(key)) {
      io.stderr.write(
        `syncline: warning: unknown key ${name}.${key} in ${found?.path}; known keys: ${known.join(", ")}\n`,
      );
    }
  }
  return { path: found?.path, values };
}
