// What `syncDocument` is given, and the same options checked and completed: the server parsed
// (a library user passes its text, the CLI an address it parsed already), the defaults filled in,
// and every value that cannot work refused with a coded error before any connection opens.

import * as Automerge from "@automerge/automerge";
import { createError, optionChecked } from "../../protocol/errors.js";
import type { RetryInfo } from "../../transport/retry.js";
import { parseServerAddress, type ServerAddress } from "../../transport/server-address.js";
import { type Backoff, type BackoffOptions, createBackoff } from "../../util/backoff.js";
import { isValidDocumentId } from "../../util/ids.js";

/** What to sync, where, and how patiently. */
export interface SyncDocumentOptions {
  /**
   * The sync server: `ws://host:port`, `wss://host`, `unix:/path.sock` (or a parsed address); its
   * path is the endpoint's (automerge-repo servers take any path).
   */
  readonly server: ServerAddress | string;
  /** An access token, sent as `?token=`; servers without auth ignore it. */
  readonly token?: string | undefined;
  /** The document id (bs58check, as in `automerge:<documentId>`). */
  readonly documentId: string;
  /** The local copy; `Automerge.init()` (no changes) when there is none. */
  readonly doc: Automerge.Doc<unknown>;
  /** Only ask whether the server has the document: apply nothing, send no changes. */
  readonly dryRun?: boolean | undefined;
  /** Merge a local copy that shares no history with the server's (else ERR_SYNC_UNRELATED). */
  readonly allowUnrelated?: boolean | undefined;
  /** The whole operation's limit, retries and backoff included, ms. Default 30000. */
  readonly timeoutMs?: number | undefined;
  /** Further attempts after a failed connection or a connection lost mid-sync. Default 5. */
  readonly retries?: number | undefined;
  /** Silence after which a sync the server never confirmed is taken as finished. Default 2000. */
  readonly quietMs?: number | undefined;
  /** Our peer id; default a fresh random `syncline-cli-…` (ephemeral, one per run). */
  readonly peerId?: string | undefined;
  /** Extra CA certificates (PEM) trusted for wss://. */
  readonly ca?: string | undefined;
  /** Largest frame accepted, bytes. Default 256 MiB. */
  readonly maxFrameBytes?: number | undefined;
  /** Backoff between attempts; default util/backoff's (500 ms doubling, 15 s cap). */
  readonly backoff?: Partial<BackoffOptions> | undefined;
  /** Aborting it (e.g. on SIGINT) ends the sync at once with ERR_INTERRUPTED. */
  readonly signal?: AbortSignal | undefined;
  /** Told before each retry (for a progress line); `attempt` is the one about to start, from 2. */
  readonly onRetry?: ((info: RetryInfo) => void) | undefined;
}

/** The options once checked: the server parsed and the limits given. */
export interface ResolvedSyncOptions extends SyncDocumentOptions {
  readonly server: ServerAddress;
  readonly timeoutMs: number;
  readonly retries: number;
  readonly quietMs: number;
  readonly maxFrameBytes: number;
}

/** The CLI's defaults (`--timeout 30`, `--retries 5`), so a library call behaves the same. */
const defaults = { timeoutMs: 30_000, retries: 5, quietMs: 2000, maxFrameBytes: 256 * 1024 ** 2 };

/**
 * Checks `options` and fills in the defaults; throws ERR_INVALID_SERVER_URL,
 * ERR_INVALID_DOCUMENT_ID or ERR_INVALID_OPTION naming the bad value. Returns the backoff too,
 * built from the checked options.
 */
export function resolveSyncOptions(options: SyncDocumentOptions): {
  readonly resolved: ResolvedSyncOptions;
  readonly backoff: Backoff;
} {
  const server =
    typeof options.server === "string"
      ? parseServerAddress(options.server, "sync: server")
      : options.server;
  if (!isValidDocumentId(options.documentId)) {
    throw createError(
      "ERR_INVALID_DOCUMENT_ID",
      `sync: document id ${JSON.stringify(String(options.documentId).slice(0, 100))} is not valid: expected bs58check of 16 bytes (the part after "automerge:")`,
    );
  }
  checkDoc(options.doc);
  const resolved: ResolvedSyncOptions = {
    ...options,
    server,
    timeoutMs: checked("timeoutMs", options.timeoutMs ?? defaults.timeoutMs, 1, false),
    retries: checked("retries", options.retries ?? defaults.retries, 0, true),
    quietMs: checked("quietMs", options.quietMs ?? defaults.quietMs, 1, false),
    maxFrameBytes: checked(
      "maxFrameBytes",
      options.maxFrameBytes ?? defaults.maxFrameBytes,
      1,
      true,
    ),
  };
  const backoff = optionChecked("sync", () => createBackoff(options.backoff));
  return { resolved, backoff };
}

/** Refuses what is not an Automerge document (Automerge's own error would not say which option). */
function checkDoc(doc: unknown): void {
  try {
    Automerge.getHeads(doc as Automerge.Doc<unknown>);
  } catch (error) {
    throw createError(
      "ERR_INVALID_OPTION",
      "sync: doc is not an Automerge document (use Automerge.init() when there is no local copy)",
      { cause: error },
    );
  }
}

function checked(name: string, value: number, min: number, integer: boolean): number {
  const ok = integer ? Number.isSafeInteger(value) : Number.isFinite(value);
  if (typeof value !== "number" || !ok || value < min) {
    throw createError(
      "ERR_INVALID_OPTION",
      `sync: ${name} ${String(value)} is not ${integer ? "an integer" : "a finite number"} >= ${min}`,
    );
  }
  return value;
}
