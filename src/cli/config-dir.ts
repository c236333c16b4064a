// The CLI's own folder, `$XDG_CONFIG_HOME/syncline` (default `~/.config/syncline`): it holds the
// config file, the device id, the share records (their secrets) and known_hosts, so it is created
// mode 0700 and its files 0600. A folder that exists already keeps the mode its owner gave it.

import { mkdirSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { createError, describeError } from "../protocol/errors.js";

/** The environment variables the folder's place depends on. */
export type ConfigEnv = Readonly<Record<string, string | undefined>>;

/** `$XDG_CONFIG_HOME/syncline`, else `$HOME/.config/syncline`. */
export function configDir(env: ConfigEnv): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), ".config");
  return join(base, "syncline");
}

/**
 * Creates the folder holding `path` (and any missing parent) mode 0700, as the XDG base directory
 * rules ask of `$XDG_CONFIG_HOME`; ERR_LOCAL_FILE, `context` first, when it cannot.
 */
export function ensureFolderOf(path: string, context: string): void {
  const folder = dirname(path);
  try {
    mkdirSync(folder, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw createError(
      "ERR_LOCAL_FILE",
      `${context}: cannot create folder ${folder}: ${describeError(error)}`,
      { cause: error },
    );
  }
}
