// The server's settings: one table entry per setting (flag, environment variable, `[server]`
// key, default, help and check). `ServerConfig` is its resolved type; `syncline serve`'s flags,
// its --help and the table in docs/operations.md are derived from it.

import { availableParallelism } from "node:os";
import { z } from "zod";
import { createError } from "../protocol/errors.js";
import { parseHostPort } from "./host-port.js";
import { defaultMaxConnections } from "./open-file-limit.js";
import {
  defineSettings,
  type FileTable,
  integer,
  nonEmptyText,
  oneOf,
  originOf,
  resolveSettings,
  type SettingSources,
  type SettingValues,
} from "./setting-table.js";
import { checkTrustedProxies } from "./trusted-proxies.js";

/** Log levels accepted by `--log-level` / `LOG_LEVEL`. */
export const logLevels = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const bytes = (min: number, max: number) => integer(min, max);
const milliseconds = (min: number, max: number) => integer(min, max);
const optionalPath = nonEmptyText.optional();
const hostAndPort = nonEmptyText.refine(
  (text) => parseHostPort(text) !== undefined,
  "must be HOST:PORT (an IPv6 host in brackets: [::1]:9464)",
);
const trustedProxyList = nonEmptyText.superRefine((text, context) => {
  const problem = checkTrustedProxies(text);
  if (problem !== undefined) context.addIssue({ code: "custom", message: problem });
});

/** Every setting of `syncline serve`. */
export const serverSettings = defineSettings({
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
  authorizedKeys: {
    flag: "--authorized-keys",
    value: "FILE",
    env: "SYNCLINE_AUTHORIZED_KEYS",
    key: "authorized_keys",
    kind: "string",
    schema: optionalPath,
    help: "OpenSSH authorized_keys: turns on the transport (/wire, send and recv)",
  },
  hostKey: {
    flag: "--host-key",
    value: "FILE",
    env: "SYNCLINE_HOST_KEY",
    key: "host_key",
    kind: "string",
    schema: optionalPath,
    defaultText: "<data>/host_key",
    help: "the transport's host key (OpenSSH private key); an ed25519 key is created there if missing",
  },
  retainBytes: {
    flag: "--retain-bytes",
    value: "N",
    env: "SYNCLINE_RETAIN_BYTES",
    key: "retain_bytes",
    kind: "integer",
    schema: bytes(0, GiB),
    default: 64 * MiB,
    defaultText: "67108864 (64 MiB)",
    help: "largest payload a channel keeps in the store as its latest (durably, for receivers that come later), bytes; bigger ones go to the spool (--spool-bytes)",
  },
  heartbeatMs: {
    flag: "--heartbeat",
    value: "MS",
    env: "SYNCLINE_HEARTBEAT_MS",
    key: "heartbeat_ms",
    kind: "integer",
    schema: milliseconds(1000, 600_000),
    default: 20_000,
    help: "how often the transport pings each connection, ms",
  },
  heartbeatGraceMs: {
    flag: "--heartbeat-grace",
    value: "MS",
    env: "SYNCLINE_HEARTBEAT_GRACE_MS",
    key: "heartbeat_grace_ms",
    kind: "integer",
    schema: milliseconds(1000, 600_000),
    default: 10_000,
    help: "silence allowed past a ping period before a transport connection is cut, ms",
  },
  automergeToken: {
    flag: "--automerge-token",
    value: "TOKEN",
    env: "SYNCLINE_AUTOMERGE_TOKEN",
    key: "automerge_token",
    kind: "string",
    schema: nonEmptyText.optional(),
    defaultText: "– (open)",
    help: "automerge sync WebSockets must carry ?token=TOKEN; otherwise HTTP 401",
  },
  automergeMemoryBudget: {
    flag: "--automerge-memory-budget",
    value: "N",
    env: "SYNCLINE_AUTOMERGE_MEMORY_BUDGET",
    key: "automerge_memory_budget",
    kind: "integer",
    schema: bytes(0, 2 ** 40),
    default: 64 * MiB,
    defaultText: "67108864 (64 MiB)",
    help: "estimated memory of loaded documents above which idle ones are evicted, bytes",
  },
  automergeIdleEvictMs: {
    flag: "--automerge-idle-evict",
    value: "MS",
    env: "SYNCLINE_AUTOMERGE_IDLE_EVICT_MS",
    key: "automerge_idle_evict_ms",
    kind: "integer",
    schema: milliseconds(100, 86_400_000),
    default: 30_000,
    help: "a loaded document unused this long is evicted, ms",
  },
  automergeMaxMessageBytes: {
    flag: "--automerge-max-message",
    value: "N",
    env: "SYNCLINE_AUTOMERGE_MAX_MESSAGE_BYTES",
    key: "automerge_max_message_bytes",
    kind: "integer",
    schema: bytes(1024, 2 ** 31),
    default: 64 * MiB,
    defaultText: "67108864 (64 MiB)",
    help: "largest automerge frame, bytes; a bigger one closes that socket with 1009",
  },
  automergeMaxDocumentBytes: {
    flag: "--automerge-max-document",
    value: "N",
    env: "SYNCLINE_AUTOMERGE_MAX_DOCUMENT_BYTES",
    key: "automerge_max_document_bytes",
    kind: "integer",
    schema: bytes(1024, 2 ** 40),
    default: 256 * MiB,
    defaultText: "268435456 (256 MiB)",
    help: "largest stored document, bytes; a sync beyond closes that socket with 4413",
  },
  automergeWorkerThreshold: {
    flag: "--automerge-worker-threshold",
    value: "N",
    env: "SYNCLINE_AUTOMERGE_WORKER_THRESHOLD",
    key: "automerge_worker_threshold",
    kind: "integer",
    schema: bytes(0, 2 ** 40),
    default: 256 * 1024,
    defaultText: "262144 (256 KiB)",
    help: "a document stored larger than this, or a sync message for it, is synced in a worker thread, bytes",
  },
  automergeWorkerThreads: {
    flag: "--automerge-worker-threads",
    value: "N",
    env: "SYNCLINE_AUTOMERGE_WORKER_THREADS",
    key: "automerge_worker_threads",
    kind: "integer",
    schema: integer(0, 16),
    default: availableParallelism() >= 4 ? 2 : 1,
    defaultText: "1 (2 with ≥ 4 cores)",
    help: "worker threads for such documents; 0 keeps every document on the main thread",
  },
  shareMaxBodyBytes: {
    flag: "--share-max-body",
    value: "N",
    env: "SYNCLINE_SHARE_MAX_BODY_BYTES",
    key: "share_max_body_bytes",
    kind: "integer",
    schema: bytes(1024, GiB),
    default: 8 * MiB,
    defaultText: "8388608 (8 MiB)",
    help: "largest body of a share request, bytes; larger → 413",
  },
  shareMaxItemBytes: {
    flag: "--share-max-item",
    value: "N",
    env: "SYNCLINE_SHARE_MAX_ITEM_BYTES",
    key: "share_max_item_bytes",
    kind: "integer",
    schema: bytes(1024, GiB),
    default: MiB,
    defaultText: "1048576 (1 MiB)",
    help: "largest content of one share item, bytes of JSON; larger → 413 naming the item",
  },
  shareMaxBytes: {
    flag: "--share-max-bytes",
    value: "N",
    env: "SYNCLINE_SHARE_MAX_BYTES",
    key: "share_max_bytes",
    kind: "integer",
    schema: bytes(1024, 2 ** 40),
    default: 64 * MiB,
    defaultText: "67108864 (64 MiB)",
    help: "largest share: bytes of JSON of all its keys' content; a sync growing it beyond → 413",
  },
  shareMemoryBudget: {
    flag: "--share-memory-budget",
    value: "N",
    env: "SYNCLINE_SHARE_MEMORY_BUDGET",
    key: "share_memory_budget",
    kind: "integer",
    schema: bytes(1024, 2 ** 40),
    default: 512 * MiB,
    defaultText: "536870912 (512 MiB)",
    help: "bytes of content all loaded shares may hold; idle ones leave memory to make room, else 503 (at least --share-max-bytes)",
  },
  shareViewerMaxBufferedBytes: {
    flag: "--share-viewer-max-buffered",
    value: "N",
    env: "SYNCLINE_SHARE_VIEWER_MAX_BUFFERED_BYTES",
    key: "share_viewer_max_buffered_bytes",
    kind: "integer",
    schema: bytes(1024, GiB),
    default: 4 * MiB,
    defaultText: "4194304 (4 MiB)",
    help: "bytes of live updates still queued for a share viewer (its full state streams as it reads, apart) past which it is closed 4429",
  },
  shareViewerFlushMs: {
    flag: "--share-viewer-flush",
    value: "MS",
    env: "SYNCLINE_SHARE_VIEWER_FLUSH_MS",
    key: "share_viewer_flush_ms",
    kind: "integer",
    schema: milliseconds(0, 1000),
    default: 0,
    help: "least time between two batches of updates written to a share's viewers, ms (0: each event-loop turn's updates leave at its end)",
  },
  shareIdleEvictMs: {
    flag: "--share-idle-evict",
    value: "MS",
    env: "SYNCLINE_SHARE_IDLE_EVICT_MS",
    key: "share_idle_evict_ms",
    kind: "integer",
    schema: milliseconds(100, 86_400_000),
    default: 60_000,
    help: "a share without viewers or writes in flight this long leaves memory, ms",
  },
  shareCatchupFrames: {
    flag: "--share-catchup-frames",
    value: "N",
    env: "SYNCLINE_SHARE_CATCHUP_FRAMES",
    key: "share_catchup_frames",
    kind: "integer",
    schema: integer(0, 1_000_000),
    default: 1000,
    help: "recent updates kept per loaded share for a viewer's since catch-up",
  },
  shareCatchupBytes: {
    flag: "--share-catchup-bytes",
    value: "N",
    env: "SYNCLINE_SHARE_CATCHUP_BYTES",
    key: "share_catchup_bytes",
    kind: "integer",
    schema: bytes(0, GiB),
    default: 4 * MiB,
    defaultText: "4194304 (4 MiB)",
    help: "… and at most this many bytes of them",
  },
  sharePublicUrl: {
    flag: "--share-public-url",
    value: "URL",
    env: "SYNCLINE_SHARE_PUBLIC_URL",
    key: "share_public_url",
    kind: "string",
    schema: z
      .string()
      .trim()
      .regex(/^https?:\/\/[^\s]+$/, "must be an http:// or https:// URL")
      .transform((url) => url.replace(/\/+$/, ""))
      .optional(),
    defaultText: "the request's host",
    help: "base of share links (<base>/s/<id>) behind a proxy, e.g. https://share.example.com",
  },
  // The output budget: what a peer that does not read may cost (server/output-budget.ts).
  outputMaxBufferedBytes: {
    flag: "--output-max-buffered",
    value: "N",
    env: "SYNCLINE_OUTPUT_MAX_BUFFERED_BYTES",
    key: "output_max_buffered_bytes",
    kind: "integer",
    schema: bytes(64 * 1024, GiB),
    default: 16 * MiB,
    defaultText: "16777216 (16 MiB)",
    help: "bytes one connection (viewer, automerge peer, /wire, HTTP response) may keep unread past --output-grace before it is cut",
  },
  outputTotalBufferedBytes: {
    flag: "--output-total-buffered",
    value: "N",
    env: "SYNCLINE_OUTPUT_TOTAL_BUFFERED_BYTES",
    key: "output_total_buffered_bytes",
    kind: "integer",
    schema: bytes(MiB, 2 ** 40),
    default: 512 * MiB,
    defaultText: "536870912 (512 MiB)",
    help: "bytes all connections together may keep unread; past it the connections with the most are cut first",
  },
  outputGraceMs: {
    flag: "--output-grace",
    value: "MS",
    env: "SYNCLINE_OUTPUT_GRACE_MS",
    key: "output_grace_ms",
    kind: "integer",
    schema: milliseconds(100, 600_000),
    default: 30_000,
    help: "how long a connection may stay over --output-max-buffered, or read nothing of what it was sent, before it is cut, ms",
  },
  // channels: what the server keeps of channel payloads, and how long it waits on their peers
  retainTotalBytes: {
    flag: "--retain-total-bytes",
    value: "N",
    env: "SYNCLINE_RETAIN_TOTAL_BYTES",
    key: "retain_total_bytes",
    kind: "integer",
    schema: bytes(0, 2 ** 40),
    default: 256 * MiB,
    defaultText: "268435456 (256 MiB)",
    help: "most bytes the payloads kept in the store may announce together (unfinished uploads included, each at least 4 KiB); a payload past it goes to the spool, else is relayed only",
  },
  spoolBytes: {
    flag: "--spool-bytes",
    value: "N",
    env: "SYNCLINE_SPOOL_BYTES",
    key: "spool_bytes",
    kind: "integer",
    schema: bytes(0, 2 ** 40),
    default: GiB,
    defaultText: "1073741824 (1 GiB)",
    help: "largest payload a channel keeps as its latest in the spool folder (<data>/channel-spool), bytes; bigger ones are relayed only to the receivers connected (0: no spool)",
  },
  spoolTotalBytes: {
    flag: "--spool-total-bytes",
    value: "N",
    env: "SYNCLINE_SPOOL_TOTAL_BYTES",
    key: "spool_total_bytes",
    kind: "integer",
    schema: bytes(0, 2 ** 44),
    default: 4 * GiB,
    defaultText: "4294967296 (4 GiB)",
    help: "most bytes the spooled payloads may announce together (unfinished uploads included); a payload past it is relayed only",
  },
  resumeTtlMs: {
    flag: "--resume-ttl",
    value: "MS",
    env: "SYNCLINE_RESUME_TTL_MS",
    key: "resume_ttl_ms",
    kind: "integer",
    schema: milliseconds(1000, 7 * 86_400_000),
    default: 600_000,
    help: "how long an interrupted upload (or one unfinished at a restart) waits for its publisher to resume it before it is dropped, ms",
  },
  relayStallMs: {
    flag: "--relay-stall-timeout",
    value: "MS",
    env: "SYNCLINE_RELAY_STALL_MS",
    key: "relay_stall_ms",
    kind: "integer",
    schema: milliseconds(100, 3_600_000),
    default: 60_000,
    help: "a receiver that holds back a payload relayed (not kept) this long without reading is dropped from it (ERR_STREAM_SLOW_READER), ms",
  },
  // Automerge under slow and hostile peers: the ephemeral relay (automerge/ephemeral-relay.ts).
  automergeMaxEphemeralBytes: {
    flag: "--automerge-max-ephemeral",
    value: "N",
    env: "SYNCLINE_AUTOMERGE_MAX_EPHEMERAL_BYTES",
    key: "automerge_max_ephemeral_bytes",
    kind: "integer",
    schema: bytes(0, 2 ** 31),
    default: 64 * 1024,
    defaultText: "65536 (64 KiB)",
    help: "largest ephemeral (presence) frame relayed, bytes; a bigger one is dropped, not relayed (0 relays none)",
  },
  // Limits and abuse: HTTP timeouts, connection caps, trusted proxies, rate limits, owner
  // control (tokens, quota, expiry, admin API), where /metrics is served.
  httpHeadersTimeoutMs: {
    flag: "--http-headers-timeout",
    value: "MS",
    env: "SYNCLINE_HTTP_HEADERS_TIMEOUT_MS",
    key: "http_headers_timeout_ms",
    kind: "integer",
    schema: milliseconds(1000, 600_000),
    default: 10_000,
    help: "a connection that has not sent a request's whole headers this long after it opened (or after its previous answer) is answered 408 and closed, ms",
  },
  httpRequestTimeoutMs: {
    flag: "--http-request-timeout",
    value: "MS",
    env: "SYNCLINE_HTTP_REQUEST_TIMEOUT_MS",
    key: "http_request_timeout_ms",
    kind: "integer",
    schema: milliseconds(1000, 3_600_000),
    default: 60_000,
    help: "a request whose body has not all arrived this long after it began is answered 408 and closed, ms (at least --http-headers-timeout)",
  },
  httpKeepAliveTimeoutMs: {
    flag: "--http-keep-alive-timeout",
    value: "MS",
    env: "SYNCLINE_HTTP_KEEP_ALIVE_TIMEOUT_MS",
    key: "http_keep_alive_timeout_ms",
    kind: "integer",
    schema: milliseconds(100, 600_000),
    default: 5000,
    help: "an idle keep-alive connection waiting for its next request is closed after this long, ms",
  },
  httpIdleTimeoutMs: {
    flag: "--http-idle-timeout",
    value: "MS",
    env: "SYNCLINE_HTTP_IDLE_TIMEOUT_MS",
    key: "http_idle_timeout_ms",
    kind: "integer",
    schema: milliseconds(1000, 3_600_000),
    default: 60_000,
    help: "an HTTP connection with no traffic either way this long (a client that stops reading an answer) is closed, ms; WebSockets have their own pings",
  },
  maxConnections: {
    flag: "--max-connections",
    value: "N",
    env: "SYNCLINE_MAX_CONNECTIONS",
    key: "max_connections",
    kind: "integer",
    schema: integer(1, 10_000_000),
    default: defaultMaxConnections(),
    defaultText: "the open-file limit less 256, at most 20000",
    help: "open connections (HTTP and WebSocket, every listener); one more is closed at once",
  },
  maxConnectionsPerAddress: {
    flag: "--max-connections-per-address",
    value: "N",
    env: "SYNCLINE_MAX_CONNECTIONS_PER_ADDRESS",
    key: "max_connections_per_address",
    kind: "integer",
    schema: integer(1, 10_000_000),
    default: 2000,
    help: "open connections from one client address (an IPv6 /64 counts as one); one more is closed at once",
  },
  maxUnauthenticatedWebSocketsPerAddress: {
    flag: "--max-unauthenticated-websockets-per-address",
    value: "N",
    env: "SYNCLINE_MAX_UNAUTHENTICATED_WEBSOCKETS_PER_ADDRESS",
    key: "max_unauthenticated_websockets_per_address",
    kind: "integer",
    schema: integer(1, 10_000_000),
    default: 1500,
    help: "WebSockets from one client address that carry no credential (share viewers, automerge without --automerge-token, /wire before WELCOME); one more → 429",
  },
  trustedProxies: {
    flag: "--trusted-proxies",
    value: "LIST",
    env: "SYNCLINE_TRUSTED_PROXIES",
    key: "trusted_proxies",
    kind: "string",
    schema: trustedProxyList.optional(),
    defaultText: "– (none)",
    help: "comma-separated addresses and CIDR networks of reverse proxies (and `unix` for the Unix socket) whose X-Forwarded-For or PROXY header names the client",
  },
  proxyProtocol: {
    flag: "--proxy-protocol",
    env: "SYNCLINE_PROXY_PROTOCOL",
    key: "proxy_protocol",
    kind: "boolean",
    schema: z.boolean(),
    default: false,
    help: "every TCP connection starts with a PROXY protocol header (v1 or v2) from a trusted proxy; others are closed",
  },
  rateLimits: {
    flag: "--rate-limits",
    value: "BOOL",
    env: "SYNCLINE_RATE_LIMITS",
    key: "rate_limits",
    kind: "boolean",
    schema: z.boolean(),
    default: true,
    help: "false turns off the per-address rate limits below (share creation, failed authentication, new automerge documents)",
  },
  rateShareCreateBurst: {
    flag: "--rate-share-create-burst",
    value: "N",
    env: "SYNCLINE_RATE_SHARE_CREATE_BURST",
    key: "rate_share_create_burst",
    kind: "integer",
    schema: integer(1, 10_000_000),
    default: 60,
    help: "share creations one address may make at once; past it → 429",
  },
  rateShareCreatePerMinute: {
    flag: "--rate-share-create-per-minute",
    value: "N",
    env: "SYNCLINE_RATE_SHARE_CREATE_PER_MINUTE",
    key: "rate_share_create_per_minute",
    kind: "integer",
    schema: integer(1, 10_000_000),
    default: 30,
    help: "… refilled at this many a minute",
  },
  rateAuthFailureBurst: {
    flag: "--rate-auth-failure-burst",
    value: "N",
    env: "SYNCLINE_RATE_AUTH_FAILURE_BURST",
    key: "rate_auth_failure_burst",
    kind: "integer",
    schema: integer(1, 10_000_000),
    default: 30,
    help: "failed authentications (share secret, tokens, /wire keys) one address may make; past it every attempt → 429",
  },
  rateAuthFailurePerMinute: {
    flag: "--rate-auth-failure-per-minute",
    value: "N",
    env: "SYNCLINE_RATE_AUTH_FAILURE_PER_MINUTE",
    key: "rate_auth_failure_per_minute",
    kind: "integer",
    schema: integer(1, 10_000_000),
    default: 30,
    help: "… refilled at this many a minute",
  },
  rateDocumentCreateBurst: {
    flag: "--rate-document-create-burst",
    value: "N",
    env: "SYNCLINE_RATE_DOCUMENT_CREATE_BURST",
    key: "rate_document_create_burst",
    kind: "integer",
    schema: integer(1, 10_000_000),
    default: 20_000,
    help: "automerge documents one address may create at once (a first sync of a document the server does not have); past it the socket is closed 4430",
  },
  rateDocumentCreatePerMinute: {
    flag: "--rate-document-create-per-minute",
    value: "N",
    env: "SYNCLINE_RATE_DOCUMENT_CREATE_PER_MINUTE",
    key: "rate_document_create_per_minute",
    kind: "integer",
    schema: integer(1, 10_000_000),
    default: 600,
    help: "… refilled at this many a minute",
  },
  shareMaxJsonDepth: {
    flag: "--share-max-json-depth",
    value: "N",
    env: "SYNCLINE_SHARE_MAX_JSON_DEPTH",
    key: "share_max_json_depth",
    kind: "integer",
    schema: integer(8, 4096),
    default: 256,
    help: "deepest nesting of arrays and objects in a share request body; deeper → 400",
  },
  shareCreateToken: {
    flag: "--share-create-token",
    value: "TOKEN",
    env: "SYNCLINE_SHARE_CREATE_TOKEN",
    key: "share_create_token",
    kind: "string",
    schema: nonEmptyText.optional(),
    defaultText: "– (anyone may create)",
    help: "share creation needs `Authorization: Bearer TOKEN`; otherwise HTTP 401",
  },
  shareTotalMaxBytes: {
    flag: "--share-total-max-bytes",
    value: "N",
    env: "SYNCLINE_SHARE_TOTAL_MAX_BYTES",
    key: "share_total_max_bytes",
    kind: "integer",
    schema: bytes(0, 2 ** 50),
    default: 0,
    defaultText: "0 (no quota)",
    help: "bytes of content JSON all stored shares may hold together; a sync growing them beyond → 507",
  },
  shareExpireAfterMs: {
    flag: "--share-expire-after",
    value: "MS",
    env: "SYNCLINE_SHARE_EXPIRE_AFTER_MS",
    key: "share_expire_after_ms",
    kind: "integer",
    schema: milliseconds(0, 2 ** 45),
    default: 0,
    defaultText: "0 (never)",
    help: "a share not written this long is deleted (viewers closed 4410), ms",
  },
  adminToken: {
    flag: "--admin-token",
    value: "TOKEN",
    env: "SYNCLINE_ADMIN_TOKEN",
    key: "admin_token",
    kind: "string",
    schema: nonEmptyText.optional(),
    defaultText: "– (admin API off)",
    help: "turns on the admin API (/admin/…), which needs `Authorization: Bearer TOKEN`",
  },
  metricsListen: {
    flag: "--metrics-listen",
    value: "HOST:PORT",
    env: "SYNCLINE_METRICS_LISTEN",
    key: "metrics_listen",
    kind: "string",
    schema: hostAndPort.optional(),
    defaultText: "– (/metrics on every listener)",
    help: "serve /metrics only on this address, e.g. 127.0.0.1:9464",
  },
  metricsToken: {
    flag: "--metrics-token",
    value: "TOKEN",
    env: "SYNCLINE_METRICS_TOKEN",
    key: "metrics_token",
    kind: "string",
    schema: nonEmptyText.optional(),
    defaultText: "– (open)",
    help: "/metrics needs `Authorization: Bearer TOKEN`; otherwise HTTP 401",
  },
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
