// The server's configuration: each field comes from its flag, else its environment variable,
// else the config file's [server] table, else its default — and is validated with an error that
// names where the bad value came from (`--port`, `PORT`, or `server.port in FILE`).

import { z } from "zod";
import { createError } from "../protocol/errors.js";
import type { ConfigFile } from "./config-file.js";

/** Log levels accepted by `--log-level` / `LOG_LEVEL`. */
export const logLevels = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

/** The server's resolved configuration; the defaults below are the documented ones. */
export interface ServerConfig {
  /** Address to bind. Default `127.0.0.1`. */
  readonly host: string;
  /** TCP port; 0 picks a free one (the start line prints the real URL). Default `3030`. */
  readonly port: number;
  /** Directory of the embedded store. Default `./syncline-data`. */
  readonly dataDir: string;
  /** Also listen on this Unix socket path. Default: none. */
  readonly unixSocket: string | undefined;
  /** PEM certificate file; with `tlsKey` the TCP listener serves HTTPS/WSS. Default: none. */
  readonly tlsCert: string | undefined;
  /** PEM private key file for `tlsCert`. Default: none. */
  readonly tlsKey: string | undefined;
  /** Structured-log level on stderr. Default `info`. */
  readonly logLevel: (typeof logLevels)[number];
  /**
   * When a write counts as done: `flush` (default) waits until the OS reports it on disk and
   * survives power loss; `commit` acknowledges once committed, surviving a crash of the server
   * process but not of the machine.
   */
  readonly durability: "flush" | "commit";
  /** Longest graceful shutdown before remaining sockets are cut, in ms. Default `4000`. */
  readonly shutdownTimeoutMs: number;
  /** OpenSSH authorized_keys file; enables the transport (`/wire`). Default: none (disabled). */
  readonly authorizedKeys: string | undefined;
  /** The server's host key (OpenSSH private key); created if missing. Default `<data>/host_key`. */
  readonly hostKey: string | undefined;
  /** Largest payload a channel keeps as its latest, bytes. Default 64 MiB. */
  readonly retainBytes: number;
  /** How often the transport pings each connection, ms. Default `20000`. */
  readonly heartbeatMs: number;
  /** Silence allowed beyond the ping period before a connection is cut, ms. Default `10000`. */
  readonly heartbeatGraceMs: number;
  /*
   * Automerge sync (WebSocket on any path not otherwise routed). Optional in the type so configs
   * built literally keep working; `resolveServerConfig` always fills them.
   */
  /**
   * Access token the automerge endpoint requires as `?token=` in the WebSocket URL (refusal:
   * HTTP 401). Default: none, anyone may sync (as the reference server).
   */
  readonly automergeToken?: string | undefined;
  /** Estimated memory of loaded documents above which idle ones are evicted, bytes. 64 MiB. */
  readonly automergeMemoryBudget?: number;
  /** A loaded document unused this long is evicted, ms. Default `30000`. */
  readonly automergeIdleEvictMs?: number;
  /** Largest automerge WebSocket frame; bigger ones close the socket with 1009. 64 MiB. */
  readonly automergeMaxMessageBytes?: number;
  /** Largest stored document; a sync growing one beyond closes the socket with 4413. 256 MiB. */
  readonly automergeMaxDocumentBytes?: number;
  /**
   * A document stored larger than this, or a sync message for it, is synced in a worker thread
   * so its Automerge work never blocks other sockets, bytes. 256 KiB.
   */
  readonly automergeWorkerThreshold?: number;
  /** Worker threads for such documents; 0 keeps all on the main thread. 1 (2 with ≥ 4 cores). */
  readonly automergeWorkerThreads?: number | undefined;
  /* Live shares (share.md). Optional in the type like the automerge fields; always resolved. */
  /** Largest body of a share request (`POST /api/share/:id/sync` …), bytes; 413 beyond. 8 MiB. */
  readonly shareMaxBodyBytes?: number;
  /** Largest content of one share item, bytes of JSON; the request is refused 413 beyond. 1 MiB. */
  readonly shareMaxItemBytes?: number;
  /**
   * Largest share: bytes of the JSON content of all its keys (a loaded share holds it all in
   * memory); a sync growing a share beyond is refused 413, nothing applied. 64 MiB.
   */
  readonly shareMaxBytes?: number;
  /**
   * Most content all loaded shares may hold together, bytes of JSON counted as `shareMaxBytes`
   * counts them: without it memory is `shareMaxBytes` times the shares loaded at once. Loading or
   * growing a share past it evicts idle shares (no viewers, no writes in flight), least recently
   * used first; when that cannot make room the request is refused 503 ERR_SHARE_MEMORY_BUDGET.
   * At least `shareMaxBytes`. 512 MiB: eight shares at the size limit, or hundreds of typical
   * sessions, within Node's default heap even though a loaded share costs more than its content.
   */
  readonly shareMemoryBudget?: number;
  /** Unsent bytes a share viewer may have queued before it is closed with 4429. 4 MiB. */
  readonly shareViewerMaxBufferedBytes?: number;
  /**
   * Least time between two batches of updates written to a share's viewers, ms. An update after
   * a quiet spell leaves at once; those following within this time wait and leave together, one
   * write per viewer. 0: each event-loop turn's updates leave at its end. Default `0`.
   */
  readonly shareViewerFlushMs?: number;
  /** A share without viewers or writes in flight this long leaves memory, ms. Default `60000`. */
  readonly shareIdleEvictMs?: number;
  /** Recent writes kept per loaded share for `since` catch-up: most frames. Default `1000`. */
  readonly shareCatchupFrames?: number;
  /** … and most bytes of them. Default 4 MiB. */
  readonly shareCatchupBytes?: number;
  /**
   * Base URL of share links (`<base>/s/<id>`) when the server sits behind a proxy. Default: the
   * request's own scheme and Host header.
   */
  readonly sharePublicUrl?: string | undefined;
}

/** The live-share defaults, for configs built without them. */
export const shareDefaults = {
  shareMaxBodyBytes: 8 * 1024 * 1024,
  shareMaxItemBytes: 1024 * 1024,
  shareMaxBytes: 64 * 1024 * 1024,
  shareMemoryBudget: 512 * 1024 * 1024,
  shareViewerMaxBufferedBytes: 4 * 1024 * 1024,
  shareViewerFlushMs: 0,
  shareIdleEvictMs: 60_000,
  shareCatchupFrames: 1000,
  shareCatchupBytes: 4 * 1024 * 1024,
} as const;

/** The automerge defaults, for configs built without them. */
export const automergeDefaults = {
  automergeMemoryBudget: 64 * 1024 * 1024,
  automergeIdleEvictMs: 30_000,
  automergeMaxMessageBytes: 64 * 1024 * 1024,
  automergeMaxDocumentBytes: 256 * 1024 * 1024,
  automergeWorkerThreshold: 256 * 1024,
} as const;

/** Raw option values as the CLI parsed them (strings, or undefined when not given). */
export type ServerFlags = Partial<Record<ServerFlagName, string>>;

/** The flag behind each field, by the name commander gives its option. */
const fieldSources = {
  host: { flag: "--host", env: "HOST", file: "host", default: "127.0.0.1" },
  port: { flag: "--port", env: "PORT", file: "port", default: 3030 },
  dataDir: { flag: "--data", env: "DATA_DIR", file: "data", default: "./syncline-data" },
  unixSocket: { flag: "--unix", env: "SYNCLINE_UNIX", file: "unix", default: undefined },
  tlsCert: { flag: "--tls-cert", env: "SYNCLINE_TLS_CERT", file: "tls_cert", default: undefined },
  tlsKey: { flag: "--tls-key", env: "SYNCLINE_TLS_KEY", file: "tls_key", default: undefined },
  logLevel: { flag: "--log-level", env: "LOG_LEVEL", file: "log_level", default: "info" },
  durability: {
    flag: "--durability",
    env: "SYNCLINE_DURABILITY",
    file: "durability",
    default: "flush",
  },
  shutdownTimeoutMs: {
    flag: "--shutdown-timeout",
    env: "SYNCLINE_SHUTDOWN_TIMEOUT",
    file: "shutdown_timeout_ms",
    default: 4000,
  },
  authorizedKeys: {
    flag: "--authorized-keys",
    env: "SYNCLINE_AUTHORIZED_KEYS",
    file: "authorized_keys",
    default: undefined,
  },
  hostKey: { flag: "--host-key", env: "SYNCLINE_HOST_KEY", file: "host_key", default: undefined },
  retainBytes: {
    flag: "--retain-bytes",
    env: "SYNCLINE_RETAIN_BYTES",
    file: "retain_bytes",
    default: 64 * 1024 * 1024,
  },
  heartbeatMs: {
    flag: "--heartbeat",
    env: "SYNCLINE_HEARTBEAT_MS",
    file: "heartbeat_ms",
    default: 20_000,
  },
  heartbeatGraceMs: {
    flag: "--heartbeat-grace",
    env: "SYNCLINE_HEARTBEAT_GRACE_MS",
    file: "heartbeat_grace_ms",
    default: 10_000,
  },
  automergeToken: {
    flag: "--automerge-token",
    env: "SYNCLINE_AUTOMERGE_TOKEN",
    file: "automerge_token",
    default: undefined,
  },
  automergeMemoryBudget: {
    flag: "--automerge-memory-budget",
    env: "SYNCLINE_AUTOMERGE_MEMORY_BUDGET",
    file: "automerge_memory_budget",
    default: automergeDefaults.automergeMemoryBudget,
  },
  automergeIdleEvictMs: {
    flag: "--automerge-idle-evict",
    env: "SYNCLINE_AUTOMERGE_IDLE_EVICT_MS",
    file: "automerge_idle_evict_ms",
    default: automergeDefaults.automergeIdleEvictMs,
  },
  automergeMaxMessageBytes: {
    flag: "--automerge-max-message",
    env: "SYNCLINE_AUTOMERGE_MAX_MESSAGE_BYTES",
    file: "automerge_max_message_bytes",
    default: automergeDefaults.automergeMaxMessageBytes,
  },
  automergeMaxDocumentBytes: {
    flag: "--automerge-max-document",
    env: "SYNCLINE_AUTOMERGE_MAX_DOCUMENT_BYTES",
    file: "automerge_max_document_bytes",
    default: automergeDefaults.automergeMaxDocumentBytes,
  },
  automergeWorkerThreshold: {
    flag: "--automerge-worker-threshold",
    env: "SYNCLINE_AUTOMERGE_WORKER_THRESHOLD",
    file: "automerge_worker_threshold",
    default: automergeDefaults.automergeWorkerThreshold,
  },
  automergeWorkerThreads: {
    flag: "--automerge-worker-threads",
    env: "SYNCLINE_AUTOMERGE_WORKER_THREADS",
    file: "automerge_worker_threads",
    default: undefined,
  },
  shareMaxBodyBytes: {
    flag: "--share-max-body",
    env: "SYNCLINE_SHARE_MAX_BODY_BYTES",
    file: "share_max_body_bytes",
    default: shareDefaults.shareMaxBodyBytes,
  },
  shareMaxItemBytes: {
    flag: "--share-max-item",
    env: "SYNCLINE_SHARE_MAX_ITEM_BYTES",
    file: "share_max_item_bytes",
    default: shareDefaults.shareMaxItemBytes,
  },
  shareMaxBytes: {
    flag: "--share-max-bytes",
    env: "SYNCLINE_SHARE_MAX_BYTES",
    file: "share_max_bytes",
    default: shareDefaults.shareMaxBytes,
  },
  shareMemoryBudget: {
    flag: "--share-memory-budget",
    env: "SYNCLINE_SHARE_MEMORY_BUDGET",
    file: "share_memory_budget",
    default: shareDefaults.shareMemoryBudget,
  },
  shareViewerMaxBufferedBytes: {
    flag: "--share-viewer-max-buffered",
    env: "SYNCLINE_SHARE_VIEWER_MAX_BUFFERED_BYTES",
    file: "share_viewer_max_buffered_bytes",
    default: shareDefaults.shareViewerMaxBufferedBytes,
  },
  shareViewerFlushMs: {
    flag: "--share-viewer-flush",
    env: "SYNCLINE_SHARE_VIEWER_FLUSH_MS",
    file: "share_viewer_flush_ms",
    default: shareDefaults.shareViewerFlushMs,
  },
  shareIdleEvictMs: {
    flag: "--share-idle-evict",
    env: "SYNCLINE_SHARE_IDLE_EVICT_MS",
    file: "share_idle_evict_ms",
    default: shareDefaults.shareIdleEvictMs,
  },
  shareCatchupFrames: {
    flag: "--share-catchup-frames",
    env: "SYNCLINE_SHARE_CATCHUP_FRAMES",
    file: "share_catchup_frames",
    default: shareDefaults.shareCatchupFrames,
  },
  shareCatchupBytes: {
    flag: "--share-catchup-bytes",
    env: "SYNCLINE_SHARE_CATCHUP_BYTES",
    file: "share_catchup_bytes",
    default: shareDefaults.shareCatchupBytes,
  },
  sharePublicUrl: {
    flag: "--share-public-url",
    env: "SYNCLINE_SHARE_PUBLIC_URL",
    file: "share_public_url",
    default: undefined,
  },
} as const;

type Field = keyof typeof fieldSources;
type ServerFlagName = Field;

const nonEmpty = z.string().trim().min(1, "must not be empty");
const integer = (min: number, max: number) => {
  const range = `must be a whole number from ${min} to ${max}`;
  return z
    .union([z.number(), z.string().trim().regex(/^\d+$/, range)], range)
    .transform(Number)
    .pipe(z.number().int(range).min(min, range).max(max, range));
};

const fieldSchemas: Record<Field, z.ZodType> = {
  host: nonEmpty,
  port: integer(0, 65535),
  dataDir: nonEmpty,
  unixSocket: nonEmpty.optional(),
  tlsCert: nonEmpty.optional(),
  tlsKey: nonEmpty.optional(),
  logLevel: z.enum(logLevels, `must be one of ${logLevels.join(", ")}`),
  durability: z.enum(["flush", "commit"], "must be flush or commit"),
  shutdownTimeoutMs: integer(100, 60_000),
  authorizedKeys: nonEmpty.optional(),
  hostKey: nonEmpty.optional(),
  retainBytes: integer(0, 1024 * 1024 * 1024),
  heartbeatMs: integer(1000, 600_000),
  heartbeatGraceMs: integer(1000, 600_000),
  automergeToken: nonEmpty.optional(),
  automergeMemoryBudget: integer(0, 2 ** 40),
  automergeIdleEvictMs: integer(100, 86_400_000),
  automergeMaxMessageBytes: integer(1024, 2 ** 31),
  automergeMaxDocumentBytes: integer(1024, 2 ** 40),
  automergeWorkerThreshold: integer(0, 2 ** 40),
  automergeWorkerThreads: integer(0, 16).optional(),
  shareMaxBodyBytes: integer(1024, 1024 * 1024 * 1024),
  shareMaxItemBytes: integer(1024, 1024 * 1024 * 1024),
  shareMaxBytes: integer(1024, 2 ** 40),
  shareMemoryBudget: integer(1024, 2 ** 40),
  shareViewerMaxBufferedBytes: integer(1024, 1024 * 1024 * 1024),
  shareViewerFlushMs: integer(0, 1000),
  shareIdleEvictMs: integer(100, 86_400_000),
  shareCatchupFrames: integer(0, 1_000_000),
  shareCatchupBytes: integer(0, 1024 * 1024 * 1024),
  sharePublicUrl: z
    .string()
    .trim()
    .regex(/^https?:\/\/[^\s]+$/, "must be an http:// or https:// URL")
    .transform((url) => url.replace(/\/+$/, ""))
    .optional(),
};

/** Where the configuration comes from. */
export interface ConfigSources {
  readonly flags: ServerFlags;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The loaded config file, when there is one. */
  readonly file?: ConfigFile;
}

/** Resolves flags > env > file > defaults into a validated ServerConfig. */
export function resolveServerConfig(sources: ConfigSources): ServerConfig {
  const values: Record<string, unknown> = {};
  const origins: Partial<Record<Field, string>> = {};
  for (const field of Object.keys(fieldSources) as Field[]) {
    const { raw, origin } = pick(field, sources);
    if (raw === undefined) continue;
    origins[field] = origin;
    const parsed = fieldSchemas[field].safeParse(raw);
    if (!parsed.success) {
      const problem = parsed.error.issues[0]?.message ?? "is invalid";
      throw createError(
        "ERR_INVALID_CONFIG",
        `config: ${origin} ${problem}, got ${JSON.stringify(raw)}`,
      );
    }
    values[field] = parsed.data;
  }
  if ((values.tlsCert === undefined) !== (values.tlsKey === undefined)) {
    throw createError(
      "ERR_INVALID_CONFIG",
      "config: --tls-cert and --tls-key must be given together",
    );
  }
  const { shareMemoryBudget: budget, shareMaxBytes: maxBytes } = values;
  if (typeof budget === "number" && typeof maxBytes === "number" && budget < maxBytes) {
    throw createError(
      "ERR_INVALID_CONFIG",
      `config: share_memory_budget ${budget} (from ${origins.shareMemoryBudget}) is less than share_max_bytes ${maxBytes} (from ${origins.shareMaxBytes}): a share of the largest size could never be loaded; raise the budget or lower the limit`,
    );
  }
  return values as unknown as ServerConfig;
}

function pick(field: Field, sources: ConfigSources): { raw: unknown; origin: string } {
  const spec = fieldSources[field];
  const flag = sources.flags[field];
  if (flag !== undefined) return { raw: flag, origin: spec.flag };
  const env = sources.env[spec.env];
  if (env !== undefined && env !== "")
    return { raw: env, origin: `environment variable ${spec.env}` };
  const fromFile = sources.file?.server?.[spec.file];
  if (fromFile !== undefined) {
    return { raw: fromFile, origin: `server.${spec.file} in ${sources.file?.path}` };
  }
  return { raw: spec.default, origin: `default of ${spec.flag}` };
}

/** The TOML keys of the [server] table, for the config file's validation. */
export const serverFileKeys: readonly string[] = Object.values(fieldSources).map((s) => s.file);
