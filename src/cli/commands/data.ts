// `syncline data export [-o FILE]` and `syncline data import FILE`: a portable dump of a server's
// store and spool folder (server/data-dump-format.ts), for backups and for moving from the
// embedded store to Postgres. They open the store the server's settings name (`--data`,
// `--postgres`, the config file's [server] table), so the server must be stopped for LMDB.

import { once } from "node:events";
import { accessSync, constants, existsSync } from "node:fs";
import { type FileHandle, open, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { createError } from "../../protocol/errors.js";
import { resolveServerConfig, serverSettings } from "../../server/config.js";
import { fileTable, readConfigFile } from "../../server/config-file.js";
import type { DumpTotals } from "../../server/data-dump-format.js";
import { exportData } from "../../server/data-export.js";
import { importData } from "../../server/data-import.js";
import { openConfiguredStore } from "../../server/open-store.js";
import { spoolFolderName } from "../../server/wire-endpoint.js";
import type { Store } from "../../storage/store.js";
import { configTables } from "../client-settings.js";
import { type CliIo, writeJson } from "../io.js";
import { localFileError, partFileFor, resolveOutputTarget } from "../output-file.js";
import { settingFlags } from "../setting-options.js";

/** Flags of the data commands: the store settings' flags, --config, --json, -o. */
export interface DataFlags extends Readonly<Record<string, unknown>> {
  readonly config?: string;
  readonly json?: boolean;
  readonly output?: string;
}

/** `data export`: the dump to `-o FILE` (replaced atomically, mode 0600) or to stdout. */
export async function dataExportCommand(options: DataFlags, io: CliIo): Promise<void> {
  const target =
    options.output === undefined || options.output === "-"
      ? undefined
      : resolveOutputTarget(options.output, "data export");
  const { store, spoolFolder, where } = await openStore(options, io, "export");
  let totals: DumpTotals;
  try {
    if (target === undefined) {
      totals = await exportData(store, spoolFolder, (line) => writeTo(io, line));
    } else if (target.kind === "direct") {
      totals = await intoFile(target.path, "a", (file) =>
        exportData(store, spoolFolder, sink(file)),
      );
    } else {
      const part = partFileFor(target.path);
      try {
        totals = await intoFile(part, "wx", (file) => exportData(store, spoolFolder, sink(file)));
        await rename(part, target.path);
      } catch (error) {
        await rm(part, { force: true });
        throw error;
      }
    }
  } finally {
    await store.close();
  }
  report(io, options, "exported", totals, where, target === undefined);
}

/** `data import FILE`: the dump into the (empty) store and spool folder. */
export async function dataImportCommand(
  path: string,
  options: DataFlags,
  io: CliIo,
): Promise<void> {
  try {
    accessSync(path, constants.R_OK);
  } catch (error) {
    throw localFileError(error, `data import: cannot read ${path}`);
  }
  const { store, spoolFolder, where } = await openStore(options, io, "import");
  let totals: DumpTotals;
  try {
    totals = await importData(store, spoolFolder, path);
  } finally {
    await store.close();
  }
  report(io, options, "imported", totals, where, false);
}

/**
 * Opens the store the settings name. An export needs an existing data directory: opening the
 * embedded store would create a missing one, and a mistyped path would export nothing.
 */
async function openStore(
  options: DataFlags,
  io: CliIo,
  command: "export" | "import",
): Promise<{ store: Store; spoolFolder: string; where: string }> {
  const file = readConfigFile(options.config, io.env, configTables);
  const config = resolveServerConfig({
    flags: settingFlags(serverSettings, options),
    env: io.env,
    file: fileTable(file, "server"),
  });
  if (command === "export" && config.postgres === undefined && !existsSync(config.dataDir)) {
    throw createError(
      "ERR_USAGE",
      `data export: there is no data directory ${config.dataDir} (--data DIR, or --postgres URL)`,
    );
  }
  const store = await openConfiguredStore(config);
  const where =
    config.postgres === undefined
      ? `the data directory ${config.dataDir}`
      : "the Postgres database";
  return { store, spoolFolder: join(config.dataDir, spoolFolderName), where };
}

/** Opens `path` (0600), runs `write` with it, syncs and closes it. */
async function intoFile<T>(
  path: string,
  flags: string,
  write: (file: FileHandle) => Promise<T>,
): Promise<T> {
  let file: FileHandle;
  try {
    file = await open(path, flags, 0o600);
  } catch (error) {
    throw localFileError(error, `data export: cannot write ${path}`);
  }
  try {
    const result = await write(file);
    await file.sync().catch(() => {}); // a FIFO or a device cannot be synced
    return result;
  } finally {
    await file.close();
  }
}

const sink = (file: FileHandle) => async (line: string) => {
  await file.write(line);
};

/** Writes to stdout, waiting when its reader is slower than the export. */
async function writeTo(io: CliIo, line: string): Promise<void> {
  if (!io.stdout.write(line)) await once(io.stdout, "drain");
}

function report(
  io: CliIo,
  options: DataFlags,
  done: "exported" | "imported",
  totals: DumpTotals,
  where: string,
  dumpOnStdout: boolean,
): void {
  if (options.json && !dumpOnStdout) {
    writeJson(io, { ok: true, [done]: totals });
    return;
  }
  const what = `${totals.entries} entries and ${totals.spoolFiles} spooled payloads (${totals.bytes} bytes)`;
  const text = `${done} ${what} ${done === "exported" ? "from" : "into"} ${where}\n`;
  // The dump itself may be on stdout: the summary then goes to stderr.
  (dumpOnStdout ? io.stderr : io.stdout).write(text);
}
