// The share queue's events: every outcome of publishing a publisher should know about (and
// report) is one, so the CLI's output and a library user's handling come from the same place.

import type { SynclineError } from "../../protocol/errors.js";
import type { DroppedItem } from "./session-batches.js";
import type { NamedItem } from "./share-http.js";

/**
 * The events of a share queue; every outcome a publisher should know about is one. Each failure
 * carries `error`, a SynclineError whose `code` says what happened (ERR_CONNECT, ERR_SHARE_SECRET,
 * ERR_SHARE_NOT_FOUND, ERR_SHARE_TOO_LARGE, the server's own code…); `message` is its text as
 * the server put it.
 */
export interface ShareQueueEvents {
  /**
   * A batch is durable on the server. `ignored` lists what the server did not store, as far as it
   * listed them (at most 100): items off the key schema, and items refused on their own for their
   * size (`code: "ERR_SHARE_TOO_LARGE"`, while the rest of the batch was applied; they are not
   * sent again). `ignoredCount` counts every item it ignored, so `ignoredCount > ignored.length`
   * means some went unlisted.
   */
  synced: (event: {
    sessionID: string;
    id: string;
    seq: number | undefined;
    keys: readonly string[];
    ignored: readonly NamedItem[];
    ignoredCount: number;
  }) => void;
  /** A batch failed (network error, 5xx) and was put back; the next try is in `delayMs`. */
  retry: (event: {
    sessionID: string;
    id: string;
    attempt: number;
    delayMs: number;
    status: number | undefined;
    message: string;
    error: SynclineError;
    pending: number;
  }) => void;
  /** 401: the secret was refused; the local record was removed and the session's items dropped. */
  unauthorized: (event: {
    sessionID: string;
    id: string;
    message: string;
    error: SynclineError;
    dropped: readonly DroppedItem[];
    /** Set when removing the local record failed. */
    recordError?: unknown;
  }) => void;
  /** 404: the share is gone; the session is no longer synced and its items were dropped. */
  "not-found": (event: {
    sessionID: string;
    id: string;
    message: string;
    error: SynclineError;
    dropped: readonly DroppedItem[];
  }) => void;
  /** 400/413: the server refused these items; they were dropped, the rest is sent on. */
  rejected: (event: {
    sessionID: string;
    id: string;
    status: number;
    message: string;
    error: SynclineError;
    items: readonly DroppedItem[];
  }) => void;
  /**
   * No share record for the session when its batch was due: its items were dropped (`error`:
   * ERR_SHARE_RECORD).
   */
  "no-record": (event: {
    sessionID: string;
    error: SynclineError;
    dropped: readonly DroppedItem[];
  }) => void;
}
