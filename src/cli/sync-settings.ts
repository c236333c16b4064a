// `syncline sync`'s settings: flags over the config file's [sync] table over defaults, each
// checked with an error that names the flag or key and the bad value.

import { createError } from "../protocol/errors.js";
import { readConfigTable } from "./config-table.js";
import { ExitError, exitCodes } from "./exit-error.js";
import type { CliIo } from "./io.js";

/** The default server: the automerge community sync server, as in automerge-repo's docs. */
export const defaultSyncServer = "wss://sync.automerge.org";
/** Default `--timeout`, seconds. */
export const defaultSyncTimeoutSeconds = 30;
/** Default `--retries`. */
export const defaultSyncRetries = 3;

/** The [sync] keys, documented in docs/operations.md. */
export const syncConfigKeys = ["server", "enabled", "timeout", "retries", "token"] as const;

/** The flags that settings come from. */
export interface SyncSettingFlags {
  readonly server?: string;
  readonly timeout?: string;
  readonly retries?: string;
  readonly config?: string;
}

/** Resolved settings. */
export interface SyncSettings {
  /** ws:// or wss:// URL (`--server` > `[sync] server` > wss://sync.automerge.org). */
  readonly server: string;
  /** `[sync] token`, sent as `?token=`; absent by default. */
  readonly token: string | undefined;
  /** `--timeout` > `[sync] timeout` (seconds) > 30 s; in ms. */
  readonly timeoutMs: number;
  /** `--retries` > `[sync] retries` > 3. */
  readonly retries: number;
  /** The config file read, if any. */
  readonly configPath: string | undefined;
}

/**
 * Reads the config file (if any) and the flags; warns on stderr about unknown [sync] keys.
 * `[sync] enabled = false` (default true) throws ERR_SYNC_DISABLED before any flag is checked.
 */
export function resolveSyncSettings(flags: SyncSettingFlags, io: CliIo): SyncSettings {
  const { path, values: table } = readConfigTable("sync", syncConfigKeys, flags.config, io);
  const where = (key: string) => `sync.${key} in ${path}`;
  const enabled = table.enabled;
  if (enabled !== undefined && typeof enabled !== "boolean") {
    throw invalid(`config: ${where("enabled")} must be true or false, got ${show(enabled)}`);
  }
  if (enabled === false) {
    throw createError("ERR_SYNC_DISABLED", `sync: disabled by sync.enabled = false in ${path}`);
  }
  const server = flags.server ?? configString(table, "server", where) ?? defaultSyncServer;
  checkServerUrl(server, flags.server !== undefined ? "--server" : where("server"));
  const timeoutSeconds = pickSetting(
    flags.timeout,
    table.timeout,
    parseTimeout,
    "--timeout",
    where("timeout"),
    defaultSyncTimeoutSeconds,
  );
  const retries = pickSetting(
    flags.retries,
    table.retries,
    parseRetries,
    "--retries",
    where("retries"),
    defaultSyncRetries,
  );
  return {
    server,
    token: configString(table, "token", where),
    timeoutMs: Math.round(timeoutSeconds * 1000),
    retries,
    configPath: path,
  };
}

function configString(
  table: Readonly<Record<string, unknown>>,
  key: string,
  where: (key: string) => string,
): string | undefined {
  const value = table[key];
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value === "") {
    throw invalid(`config: ${where(key)} must be a non-empty string, got ${show(value)}`);
  }
  return value;
}

function checkServerUrl(server: string, source: string): void {
  let protocol: string | undefined;
  try {
    protocol = new URL(server).protocol;
  } catch {}
  if (protocol !== "ws:" && protocol !== "wss:") {
    throw new ExitError(
      exitCodes.usage,
      "ERR_INVALID_SERVER_URL",
      `sync: ${source} ${show(server)} is not a ws:// or wss:// url`,
    );
  }
}

/** The flag's value, else the config file's, else the default; each parsed naming its source. */
function pickSetting<T>(
  flag: unknown,
  fileValue: unknown,
  parse: (value: unknown, source: string) => T,
  flagName: string,
  fileSource: string,
  fallback: T,
): T {
  if (flag !== undefined) return parse(flag, flagName);
  return fileValue !== undefined ? parse(fileValue, fileSource) : fallback;
}

function parseTimeout(value: unknown, source: string): number {
  const number = typeof value === "number" ? value : numberOf(value);
  if (!Number.isFinite(number) || number <= 0 || number > 86_400) {
    throw invalid(
      `sync: ${source} must be a number of seconds above 0 (at most 86400), got ${show(value)}`,
    );
  }
  return number;
}

function parseRetries(value: unknown, source: string): number {
  const number = typeof value === "number" ? value : numberOf(value);
  if (!Number.isInteger(number) || number < 0 || number > 100) {
    throw invalid(`sync: ${source} must be a whole number from 0 to 100, got ${show(value)}`);
  }
  return number;
}

// Number("") is 0 and Number(" 5") is 5; only plain decimal text is a number here.
function numberOf(value: unknown): number {
  return typeof value === "string" && /^\d+(\.\d+)?$/.test(value) ? Number(value) : Number.NaN;
}

function show(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

function invalid(message: string): ExitError {
  return new ExitError(exitCodes.usage, "ERR_INVALID_CONFIG", message);
}
