// Where and how `syncline serve` listens, logs, stores and shuts down. Part of the server's
// settings table (server/config.ts); each entry is a flag, an environment variable, a `[server]`
// key, a default, its help and its check.

import { defineSettings, integer, nonEmptyText, oneOf } from "../setting-table.js";
import { milliseconds, optionalPath } from "./units.js";

/** Log levels accepted by `--log-level` / `LOG_LEVEL`. */
export const logLevels = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

/** Where and how `syncline serve` listens, logs, stores and shuts down. */
export const listenerSettings = defineSettings({
  host: {
    flag: "--host",
    value: "ADDR",
    env: "HOST",
    key: "host",
    kind: "string",
    schema: nonEmptyText,
    default: "127.0.0.1",
    help: "address to bind",
    doc: "address to bind (`0.0.0.0` or `::` for every interface)",
  },
  port: {
    flag: "--port",
    value: "N",
    env: "PORT",
    key: "port",
    kind: "integer",
    schema: integer(0, 65535),
    default: 3030,
    help: "TCP port; 0 picks a free one and the start line prints it",
  },
  dataDir: {
    flag: "--data",
    value: "DIR",
    env: "DATA_DIR",
    key: "data",
    kind: "string",
    schema: nonEmptyText,
    default: "./syncline-data",
    help: "directory of the embedded store (created if missing)",
  },
  unixSocket: {
    flag: "--unix",
    value: "PATH",
    env: "SYNCLINE_UNIX",
    key: "unix",
    kind: "string",
    schema: optionalPath,
    help: "also serve every route on this Unix socket",
  },
  tlsCert: {
    flag: "--tls-cert",
    value: "FILE",
    env: "SYNCLINE_TLS_CERT",
    key: "tls_cert",
    kind: "string",
    schema: optionalPath,
    help: "PEM certificate (chain); with --tls-key the TCP port serves HTTPS/WSS",
  },
  tlsKey: {
    flag: "--tls-key",
    value: "FILE",
    env: "SYNCLINE_TLS_KEY",
    key: "tls_key",
    kind: "string",
    schema: optionalPath,
    help: "PEM private key of --tls-cert",
  },
  logLevel: {
    flag: "--log-level",
    value: "LEVEL",
    env: "LOG_LEVEL",
    key: "log_level",
    kind: "string",
    schema: oneOf(logLevels),
    default: "info",
    help: `structured JSON logs on stderr at this level: ${logLevels.join(", ")}`,
  },
  postgres: {
    flag: "--postgres",
    value: "URL",
    env: "DATABASE_URL",
    key: "postgres",
    kind: "string",
    schema: nonEmptyText.optional(),
    defaultText: "– (the embedded LMDB store in --data)",
    help: "store documents, shares and payloads in this Postgres database (postgres://USER:PASSWORD@HOST:PORT/DB) instead of the embedded store",
    doc: "store documents, shares and retained payloads in this Postgres database (`postgres://USER:PASSWORD@HOST:PORT/DB`, libpq's URL form, `?sslmode=…` included) instead of the embedded LMDB store (one node per database for now: see [The Postgres store](#the-postgres-store)). The schema is created and migrated on start. Writes are acknowledged once committed (with Postgres's default `synchronous_commit = on`, once its WAL is on disk), and `--durability` does not apply",
  },
  durability: {
    flag: "--durability",
    value: "D",
    env: "SYNCLINE_DURABILITY",
    key: "durability",
    kind: "string",
    schema: oneOf(["flush", "commit"]),
    default: "flush",
    help: "acknowledge a write once flushed to disk (flush, survives power loss) or once committed (commit, survives a crash of the server)",
  },
  wsKeepaliveMs: {
    flag: "--ws-keepalive",
    value: "MS",
    env: "SYNCLINE_WS_KEEPALIVE_MS",
    key: "ws_keepalive_ms",
    kind: "integer",
    schema: milliseconds(1000, 600_000),
    default: 30_000,
    help: "how often automerge and share WebSockets are pinged, ms; one from which nothing (pong or message) arrived for two such periods is closed",
  },
  shutdownTimeoutMs: {
    flag: "--shutdown-timeout",
    value: "MS",
    env: "SYNCLINE_SHUTDOWN_TIMEOUT",
    key: "shutdown_timeout_ms",
    kind: "integer",
    schema: milliseconds(100, 60_000),
    default: 4000,
    help: "longest graceful shutdown before open sockets are cut, ms",
  },
});
