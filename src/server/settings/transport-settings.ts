// The SSH-key transport on /wire and its channels: keys, heartbeats, and what is kept of payloads,
// and for how long. Part of the server's settings table (server/config.ts); each entry is a flag,
// an environment variable, a `[server]` key, a default, its help and its check.

import { defineSettings } from "../setting-table.js";
import { bytes, GiB, MiB, milliseconds, optionalPath } from "./units.js";

/**
 * The SSH-key transport on /wire and its channels: keys, heartbeats, and what is kept of
 * payloads, and for how long.
 */
export const transportSettings = defineSettings({
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
    limit: {
      whenHit: "the payload is spooled instead, else only relayed to the receivers connected",
      metric: 'syncline_channel_kept_bytes{where="store"}',
    },
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
    limit: {
      whenHit:
        "the payload is only relayed; with no receiver connected `syncline send` exits 10 (`ERR_NOT_DELIVERED`)",
      metric: 'syncline_channel_kept_bytes{where="spool"}',
    },
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
    limit: {
      whenHit: "as `spool_bytes`: relayed only, exit 10 when nobody got it",
      metric: 'syncline_channel_kept_bytes{where="spool"}',
    },
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
    limit: {
      whenHit:
        "that receiver's delivery is cancelled (`ERR_STREAM_SLOW_READER`); the publisher and the others go on",
      metric: "syncline_wire_slow_readers_total",
    },
  },
});
