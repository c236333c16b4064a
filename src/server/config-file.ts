// Finds, reads and checks the TOML config file against every table a command of ours reads
// ([server], [sync], [share], [transport]): one strictness everywhere. An unknown table or key is
// ERR_CONFIG_FILE with a "did you mean"; a value of the wrong type or out of range is
// ERR_INVALID_CONFIG naming `table.key in FILE`. So a typo never falls back to a default.

import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { parse } from "smol-toml";
import { createError, describeError } from "../protocol/errors.js";
import { didYouMean } from "../util/did-you-mean.js";
import { checkFileValue, type FileTable, fileOrigin, type SettingTable } from "./setting-table.js";

/** A loaded, checked config file. */
export interface ConfigFile {
  readonly path: string;
  /** Table name → the keys it sets (as TOML gave them; every one known and valid). */
  readonly tables: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

/** The tables a config file may hold, by name. */
export type ConfigTables = Readonly<Record<string, SettingTable>>;

/**
 * The config file to use: `explicit` (from `--config`) or `SYNCLINE_CONFIG` must exist;
 * otherwise `$XDG_CONFIG_HOME/syncline/config.toml` (default `~/.config/…`) is used if present.
 */
export function findConfigFile(
  explicit: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): { path: string; required: boolean } | undefined {
  const given = explicit ?? (env.SYNCLINE_CONFIG || undefined);
  if (given !== undefined) return { path: resolve(given), required: true };
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), ".config");
  const path = join(base, "syncline", "config.toml");
  return existsSync(path) ? { path, required: false } : undefined;
}

/** Finds (as `findConfigFile`) and loads the config file; undefined when there is none. */
export function readConfigFile(
  explicit: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  tables: ConfigTables,
): ConfigFile | undefined {
  const found = findConfigFile(explicit, env);
  return found === undefined ? undefined : loadConfigFile(found.path, tables);
}

/** Reads and checks a config file against `tables`. */
export function loadConfigFile(path: string, tables: ConfigTables): ConfigFile {
  const parsed = parseToml(path);
  for (const [name, value] of Object.entries(parsed)) {
    const settings = tables[name];
    if (settings === undefined) {
      const expected = Object.keys(tables)
        .map((t) => `[${t}]`)
        .join(", ");
      throw createError(
        "ERR_CONFIG_FILE",
        `config: unknown table [${name}] in ${path}${didYouMean(name, Object.keys(tables))}; expected ${expected}`,
      );
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw createError("ERR_CONFIG_FILE", `config: ${name} in ${path} must be a table [${name}]`);
    }
    checkTable({ path, name, values: value as Record<string, unknown> }, settings);
  }
  return { path, tables: parsed as ConfigFile["tables"] };
}

/** The file's table `name` for resolving settings; undefined without a file or that table. */
export function fileTable(file: ConfigFile | undefined, name: string): FileTable | undefined {
  const values = file?.tables[name];
  return file === undefined || values === undefined ? undefined : { path: file.path, name, values };
}

function parseToml(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw createError("ERR_CONFIG_FILE", `config: cannot read ${path}: ${describeError(error)}`, {
      cause: error,
    });
  }
  try {
    return parse(text);
  } catch (error) {
    throw createError(
      "ERR_CONFIG_FILE",
      `config: ${path} is not valid TOML: ${describeError(error)}`,
      { cause: error },
    );
  }
}

/** Every key of `table` is a known setting with a valid value. */
function checkTable(table: FileTable, settings: SettingTable): void {
  const byKey = new Map(Object.values(settings).map((setting) => [setting.key, setting]));
  for (const [key, value] of Object.entries(table.values)) {
    const setting = byKey.get(key);
    if (setting === undefined) {
      throw createError(
        "ERR_CONFIG_FILE",
        `config: unknown key ${table.name}.${key} in ${table.path}${didYouMean(key, byKey.keys())}; known keys: ${[...byKey.keys()].join(", ")}`,
      );
    }
    checkFileValue(setting, value, fileOrigin(table, setting));
  }
}
