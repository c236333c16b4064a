// What a share queue is given: the HTTP client, where the share records live, and its timing.
// Checked once when the queue is made, so a bad value fails there with ERR_INVALID_OPTION rather
// than as a timer that fires at once or a throw from a later `sync()`.

import { createError } from "../../protocol/errors.js";
import type { BackoffOptions } from "../../util/backoff.js";
import type { ShareHttp } from "./share-http.js";

/** What the queue needs to publish a session: its share id and secret. */
export interface ShareCredentials {
  readonly id: string;
  readonly secret: string;
}

/** Where the queue finds (and, after a 401, forgets) each session's share record. */
export interface ShareRecords {
  /** The credentials of `sessionID`'s share, or undefined when there is no record. */
  get(sessionID: string): ShareCredentials | undefined;
  /** Forgets `sessionID`'s share record (its secret was refused). */
  remove(sessionID: string): void | Promise<void>;
}

/** Options of `createShareQueue`. */
export interface ShareQueueOptions {
  /** The HTTP client of the server to publish to (`createShareHttp`). */
  http: ShareHttp;
  /** The share records: id and secret per session. */
  records: ShareRecords;
  /** How long the first item of a batch waits for more, in ms. Default 1000, the window OpenCode's own client uses. */
  windowMs?: number;
  /** Retry backoff (full jitter). Default 1 s doubling up to 30 s. */
  backoff?: Partial<BackoffOptions>;
  /** Randomness for the jitter. Default Math.random. */
  random?: () => number;
  /** Timers. Default the global setTimeout/clearTimeout. */
  setTimeout?: (callback: () => void, ms: number) => unknown;
  clearTimeout?: (handle: unknown) => void;
  /** Longest wait of `close()` for pending items, in ms. Default 5000. */
  closeTimeoutMs?: number;
}

/** Throws ERR_INVALID_OPTION naming the first option that cannot work. */
export function checkQueueOptions(options: ShareQueueOptions): void {
  const { http, records } = options;
  if (typeof http?.sync !== "function") {
    throw invalid("http is not a share HTTP client (make one with createShareHttp)");
  }
  if (typeof records?.get !== "function" || typeof records.remove !== "function") {
    throw invalid("records has no get(sessionID) and remove(sessionID)");
  }
  for (const name of ["windowMs", "closeTimeoutMs"] as const) {
    const value = options[name];
    if (
      value !== undefined &&
      (typeof value !== "number" || !Number.isFinite(value) || value < 0)
    ) {
      throw invalid(`${name} ${String(value)} is not a finite number of ms >= 0`);
    }
  }
}

function invalid(problem: string) {
  return createError("ERR_INVALID_OPTION", `share queue: ${problem}`);
}
