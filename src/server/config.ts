// The server's settings: one table entry per setting (flag, environment variable, `[server]`
// key, default, help and check), kept by area in settings/. `ServerConfig` is the resolved type;
// `syncline serve`'s flags, its --help and the tables in docs/operations.md are derived from it.

import { createError } from "../protocol/errors.js";
import {
  defineSettings,
  type FileTable,
  originOf,
  resolveSettings,
  type SettingSources,
  type SettingValues,
} from "./setting-table.js";
import { automergeSettings } from "./settings/automerge-settings.js";
import { limitSettings } from "./settings/limit-settings.js";
import { listenerSettings } from "./settings/listener-settings.js";
import { shareSettings } from "./settings/share-settings.js";
import { transportSettings } from "./settings/transport-settings.js";

export { logLevels } from "./settings/listener-settings.js";

/** Every setting of `syncline serve`, by area (the order of --help and the docs). */
export const serverSettings = defineSettings({
  ...listenerSettings,
  ...automergeSettings,
  ...shareSettings,
  ...transportSettings,
  ...limitSettings,
});

/** The server's resolved configuration: one field per entry of `serverSettings`. */
export type ServerConfig = SettingValues<typeof serverSettings>;

/** Where the server's configuration comes from. */
export interface ConfigSources {
  /** Values of `serve`'s flags, by field name (as commander parsed them). */
  readonly flags: Readonly<Partial<Record<keyof ServerConfig, unknown>>>;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The config file's `[server]` table, when there is a file. */
  readonly file?: FileTable | undefined;
}

/** Resolves flags > env > file > defaults into a checked ServerConfig. */
export function resolveServerConfig(sources: ConfigSources): ServerConfig {
  const config = resolveSettings(serverSettings, sources);
  checkTogether(config, sources);
  return config;
}

/**
 * The defaults with `overrides`, checked as flags are (an error names the flag): a config for
 * embedding the server and for tests. The environment and config files are not read.
 */
export function serverConfig(overrides: Partial<ServerConfig> = {}): ServerConfig {
  return resolveServerConfig({ flags: overrides, env: {} });
}

/** Rules between settings, which no single entry can check. */
function checkTogether(config: ServerConfig, sources: SettingSources): void {
  if ((config.tlsCert === undefined) !== (config.tlsKey === undefined)) {
    throw createError(
      "ERR_INVALID_CONFIG",
      "config: --tls-cert and --tls-key must be given together",
    );
  }
  const from = (field: keyof ServerConfig) =>
    originOf(serverSettings[field], sources, field as string);
  if (config.redis !== undefined && config.postgres === undefined) {
    throw createError(
      "ERR_INVALID_CONFIG",
      `config: redis (from ${from("redis")}) needs postgres: the nodes of a deployment share one database, and the embedded store in --data belongs to one node; add --postgres URL (or DATABASE_URL)`,
    );
  }
  checkLimitsTogether(config, from);
  if (config.shareMemoryBudget < config.shareMaxBytes) {
    throw createError(
      "ERR_INVALID_CONFIG",
      `config: share_memory_budget ${config.shareMemoryBudget} (from ${from("shareMemoryBudget")}) is less than share_max_bytes ${config.shareMaxBytes} (from ${from("shareMaxBytes")}): a share of the largest size could never be loaded; raise the budget or lower the limit`,
    );
  }
}

/** The limits' rules between settings; `from` names where a value came from. */
function checkLimitsTogether(
  config: ServerConfig,
  from: (field: keyof ServerConfig) => string,
): void {
  if (config.httpHeadersTimeoutMs > config.httpRequestTimeoutMs) {
    throw createError(
      "ERR_INVALID_CONFIG",
      `config: http_headers_timeout_ms ${config.httpHeadersTimeoutMs} (from ${from("httpHeadersTimeoutMs")}) is more than http_request_timeout_ms ${config.httpRequestTimeoutMs} (from ${from("httpRequestTimeoutMs")}): a request's headers are part of the request; lower the first or raise the second`,
    );
  }
  if (config.proxyProtocol && config.trustedProxies === undefined) {
    throw createError(
      "ERR_INVALID_CONFIG",
      `config: proxy_protocol (from ${from("proxyProtocol")}) needs trusted_proxies: a PROXY header is believed only from a trusted proxy, so every connection would be refused`,
    );
  }
}
