// Finds, reads and checks the TOML config file. Tables other commands own ([sync], [share],
// [transport]) are passed through for them; an unknown table or [server] key is an error.

import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { parse } from "smol-toml";
import { createError, describeError } from "../protocol/errors.js";

/** A loaded config file: its path and its tables. */
export interface ConfigFile {
  readonly path: string;
  readonly server?: Readonly<Record<string, unknown>>;
  readonly sync?: Readonly<Record<string, unknown>>;
  readonly share?: Readonly<Record<string, unknown>>;
  readonly transport?: Readonly<Record<string, unknown>>;
}

const knownTables = ["server", "sync", "share", "transport"] as const;

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

/** Reads and checks a config file; every failure is ERR_CONFIG_FILE naming the file. */
export function loadConfigFile(path: string, allowedServerKeys: readonly string[]): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw createError("ERR_CONFIG_FILE", `config: cannot read ${path}: ${describeError(error)}`, {
      cause: error,
    });
  }
  let tables: Record<string, unknown>;
  try {
    tables = parse(text);
  } catch (error) {
    throw createError(
      "ERR_CONFIG_FILE",
      `config: ${path} is not valid TOML: ${describeError(error)}`,
      {
        cause: error,
      },
    );
  }
  for (const [name, value] of Object.entries(tables)) {
    if (!(knownTables as readonly string[]).includes(name)) {
      throw createError(
        "ERR_CONFIG_FILE",
        `config: unknown entry "${name}" in ${path}; expected tables ${knownTables.map((t) => `[${t}]`).join(", ")}`,
      );
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw createError(
        "ERR_CONFIG_FILE",
        `config: "${name}" in ${path} must be a table [${name}]`,
      );
    }
  }
  for (const key of Object.keys((tables.server as object | undefined) ?? {})) {
    if (!allowedServerKeys.includes(key)) {
      throw createError(
        "ERR_CONFIG_FILE",
        `config: unknown key server.${key} in ${path}; known keys: ${allowedServerKeys.join(", ")}`,
      );
    }
  }
  return { path, ...(tables as Omit<ConfigFile, "path">) };
}
