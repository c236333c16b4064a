// Live shares: request and share sizes, memory, viewers, catch-up, links, and the owner's controls
// (create token, quota, expiry). Part of the server's settings table (server/config.ts); each entry
// is a flag, an environment variable, a `[server]` key, a default, its help and its check.

import { z } from "zod";
import { defineSettings, integer, nonEmptyText } from "../setting-table.js";
import { bytes, GiB, MiB, milliseconds } from "./units.js";

/**
 * Live shares: request and share sizes, memory, viewers, catch-up, links, and the owner's
 * controls (create token, quota, expiry).
 */
export const shareSettings = defineSettings({
  shareMaxBodyBytes: {
    flag: "--share-max-body",
    value: "N",
    env: "SYNCLINE_SHARE_MAX_BODY_BYTES",
    key: "share_max_body_bytes",
    kind: "integer",
    schema: bytes(1024, GiB),
    default: 64 * MiB,
    defaultText: "67108864 (64 MiB)",
    help: "largest body of a share request, bytes (the first sync after a create carries the whole session); larger → 413",
    limit: {
      whenHit: "413 `ERR_SHARE_TOO_LARGE`, nothing applied",
      metric: 'syncline_http_requests_total{status="413"}',
    },
  },
  shareMaxItemBytes: {
    flag: "--share-max-item",
    value: "N",
    env: "SYNCLINE_SHARE_MAX_ITEM_BYTES",
    key: "share_max_item_bytes",
    kind: "integer",
    schema: bytes(1024, GiB),
    default: 16 * MiB,
    defaultText: "16777216 (16 MiB)",
    help: "largest content of one share item, bytes of JSON; a larger one is refused alone (named in the 200's ignored; /share_sync: 413)",
    limit: {
      whenHit:
        "that item alone is refused: 200 with it in `ignored` (`code: ERR_SHARE_TOO_LARGE`), the rest applied; `/share_sync` (one item): 413",
    },
  },
  shareMaxBytes: {
    flag: "--share-max-bytes",
    value: "N",
    env: "SYNCLINE_SHARE_MAX_BYTES",
    key: "share_max_bytes",
    kind: "integer",
    schema: bytes(1024, 2 ** 40),
    default: 256 * MiB,
    defaultText: "268435456 (256 MiB)",
    help: "largest share: bytes of JSON of all its keys' content; a sync growing it beyond → 413",
    limit: {
      whenHit: "413 `ERR_SHARE_TOO_LARGE`, nothing applied",
      metric: 'syncline_http_requests_total{status="413"}',
    },
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
    limit: {
      whenHit: "400 `ERR_SHARE_REQUEST`, nothing applied",
      metric: 'syncline_http_requests_total{status="400"}',
    },
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
    limit: {
      whenHit: "idle shares leave memory; when none can, 503 `ERR_SHARE_MEMORY_BUDGET` (retry)",
      metric: "syncline_share_loaded_bytes",
    },
  },
  shareViewerMaxBufferedBytes: {
    flag: "--share-viewer-max-buffered",
    value: "N",
    env: "SYNCLINE_SHARE_VIEWER_MAX_BUFFERED_BYTES",
    key: "share_viewer_max_buffered_bytes",
    kind: "integer",
    schema: bytes(1024, GiB),
    default: 34 * MiB,
    defaultText: "35651584 (34 MiB: two of the largest items and their frames)",
    help: "bytes of live updates still queued for a share viewer (its full state streams as it reads, apart) past which it is closed 4429",
    limit: {
      whenHit: "the viewer is closed with 4429; it reconnects with `since`",
      metric: "syncline_share_slow_viewers_total",
    },
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
    limit: {
      whenHit:
        "a viewer reconnecting with an older `since` (or past `share_catchup_frames`) gets the full state instead of the updates it missed",
    },
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
    help: "base of share links (<base>/share/<id>) behind a proxy, e.g. https://share.example.com",
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
    limit: {
      whenHit: "507 `ERR_SHARE_QUOTA`, nothing applied (shrinking syncs and deletes pass)",
      metric: "syncline_share_stored_bytes",
    },
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
    limit: {
      whenHit:
        "the share is deleted: viewers closed with 4410, the publisher's next sync 410 (then 404 once its tombstone is forgotten)",
      metric: "syncline_share_expired_total",
    },
  },
  shareTombstoneMs: {
    flag: "--share-tombstone",
    value: "MS",
    env: "SYNCLINE_SHARE_TOMBSTONE_MS",
    key: "share_tombstone_ms",
    kind: "integer",
    schema: milliseconds(0, 2 ** 45),
    default: 30 * 86_400_000,
    defaultText: "2592000000 (30 days)",
    help: "how long a deleted share's id is answered 410 Gone (ERR_SHARE_DELETED) rather than 404, ms (0: never)",
  },
  shareTombstoneMax: {
    flag: "--share-tombstone-max",
    value: "N",
    env: "SYNCLINE_SHARE_TOMBSTONE_MAX",
    key: "share_tombstone_max",
    kind: "integer",
    schema: integer(0, 10_000_000),
    default: 100_000,
    help: "most deleted share ids remembered (for 410); past it the oldest are forgotten (answered 404)",
    limit: {
      whenHit: "the oldest deleted share ids are forgotten: 404 instead of 410 for them",
      metric: "syncline_share_tombstones",
    },
  },
});
