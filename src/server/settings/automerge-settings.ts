// Automerge document sync: who may sync, memory, message and document sizes, worker threads, the
// ephemeral relay. Part of the server's settings table (server/config.ts); each entry is a flag, an
// environment variable, a `[server]` key, a default, its help and its check.

import { availableParallelism } from "node:os";
import { defineSettings, integer, nonEmptyText } from "../setting-table.js";
import { bytes, MiB, milliseconds } from "./units.js";

/**
 * Automerge document sync: who may sync, memory, message and document sizes, worker threads, the
 * ephemeral relay.
 */
export const automergeSettings = defineSettings({
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
    limit: {
      whenHit:
        "idle documents leave memory (loaded again on their next sync); no client is refused",
      metric: "syncline_automerge_documents_evicted_total",
    },
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
    limit: {
      whenHit: "the socket is closed with 1009",
    },
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
    limit: {
      whenHit:
        "the socket is closed with 4413 (`ERR_DOCUMENT_TOO_LARGE`); the document keeps what it had",
    },
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
    limit: {
      whenHit: "the message is dropped, not relayed; the socket stays",
      metric: 'syncline_automerge_ephemeral_dropped_total{reason="too-large"}',
    },
  },
});
