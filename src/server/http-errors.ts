// The one way an error becomes an HTTP answer, for routes and refused WebSocket upgrades alike:
// the status from the error (the error table's), `{error: {code, message[, items]}}` as JSON,
// and `Cache-Control: no-store` (a retry may succeed). Anything not ours is a 500.

import {
  createError,
  describeError,
  isSynclineError,
  type SynclineError,
} from "../protocol/errors.js";
import type { HttpResponse } from "./http-router.js";

/** Headers of every error answer: never cached, since the next try may succeed. */
export const noStore = { "cache-control": "no-store" } as const;

/** The answer for `error`; `headers` adds to it (405's `Allow`). */
export function errorResponse(
  error: SynclineError,
  headers: Readonly<Record<string, string>> = {},
): HttpResponse {
  return {
    status: httpStatusOf(error),
    headers: {
      "content-type": "application/json; charset=utf-8",
      ...noStore,
      ...retryAfterHeader(error),
      ...headers,
    },
    body: errorBody(error),
  };
}

/** `Retry-After` for an error that says when to come back (a rate limit's), else nothing. */
export function retryAfterHeader(error: SynclineError): Record<string, string> {
  const seconds = (error as { retryAfterSeconds?: unknown }).retryAfterSeconds;
  return typeof seconds === "number" ? { "retry-after": String(seconds) } : {};
}

/** `{"error":{"code","message"[,"items"]}}`: a share error lists the items that caused it. */
export function errorBody(error: SynclineError): string {
  const items = (error as { items?: unknown }).items;
  return JSON.stringify({
    error: { code: error.code, message: error.message, ...(items === undefined ? {} : { items }) },
  });
}

/** The status an error is answered with: its own, else 500. */
export function httpStatusOf(error: SynclineError): number {
  return error.status ?? 500;
}

/** A thrown value as ours: a SynclineError as it is, anything else ERR_UNEXPECTED naming `context`. */
export function asHttpError(error: unknown, context: string): SynclineError {
  if (isSynclineError(error)) return error;
  return createError("ERR_UNEXPECTED", `${context} failed: ${describeError(error)}`, {
    cause: error,
  });
}
