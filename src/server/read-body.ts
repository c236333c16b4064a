// Reads a request body up to a limit. Past the limit it stops keeping bytes and answers at once;
// the rest of the body is drained and discarded (not kept), so the client still reads our 413
// rather than a reset connection.

import type { IncomingMessage } from "node:http";
import { createError, type SynclineError } from "../protocol/errors.js";
import type { BodyAccount, BodyBudget } from "./body-budget.js";

/** Thrown (rejected) when the body is larger than allowed: HTTP 413. */
export function bodyTooLarge(context: string, bytes: number, maxBytes: number): SynclineError {
  return createError(
    "ERR_SHARE_TOO_LARGE",
    `${context}: request body of ${bytes}${bytes > maxBytes ? "" : "+"} bytes is more than the limit of ${maxBytes}`,
  );
}

/**
 * The whole body of `request`, or a 413 SynclineError once it passes `maxBytes`, or a 503 once
 * the server's bodies together would pass its budget (`account` counts this one's bytes).
 */
export function readBody(
  request: IncomingMessage,
  maxBytes: number,
  context: string,
  budget?: { readonly budget: BodyBudget; readonly account: BodyAccount },
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(request.headers["content-length"]);
    if (Number.isFinite(declared) && declared > maxBytes) {
      request.resume();
      reject(bodyTooLarge(context, declared, maxBytes));
      return;
    }
    const chunks: Buffer[] = [];
    let length = 0;
    let failed = false;
    request.on("data", (chunk: Buffer) => {
      if (failed) return;
      length += chunk.length;
      if (length > maxBytes) {
        failed = true;
        chunks.length = 0;
        reject(bodyTooLarge(context, length, maxBytes));
        return;
      }
      if (budget && !budget.account.take(chunk.length)) {
        failed = true;
        chunks.length = 0;
        budget.account.release();
        reject(budget.budget.refusal(context));
        return;
      }
      chunks.push(chunk);
    });
    request.once("end", () => {
      if (!failed) resolve(Buffer.concat(chunks, length));
    });
    request.once("error", (error) => {
      if (failed) return;
      failed = true;
      reject(
        createError(
          "ERR_SHARE_REQUEST",
          `${context}: reading the request body failed: ${error.message}`,
          { cause: error },
        ),
      );
    });
    const aborted = () => {
      if (failed) return;
      failed = true;
      reject(createError("ERR_SHARE_REQUEST", `${context}: the client aborted the request body`));
    };
    request.once("aborted", aborted);
    // A connection closed before the body ended: the route's promise must settle all the same.
    request.once("close", () => {
      if (!request.complete) aborted();
    });
  });
}
