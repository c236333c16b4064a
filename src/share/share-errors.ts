// The errors of the share server. Their HTTP statuses and close codes are the error table's;
// messages name the context first and the bad value (never a secret).

import { createError, describeError, type SynclineError } from "../protocol/errors.js";
import type { ItemProblem } from "./sync-items.js";

/** A SynclineError carrying the items that caused it (413 answers list them). */
export type ShareError = SynclineError & { readonly items?: readonly ItemProblem[] };

export function shareNotFound(context: string, id: string): SynclineError {
  return createError("ERR_SHARE_NOT_FOUND", `${context}: no share ${JSON.stringify(id)}`);
}

/** A share that was deleted at `deletedAt` (ms) and not created again since. */
export function shareDeleted(context: string, id: string, deletedAt: number): SynclineError {
  return createError(
    "ERR_SHARE_DELETED",
    `${context}: share ${JSON.stringify(id)} was deleted at ${new Date(deletedAt).toISOString()}`,
  );
}

export function badSecret(context: string, id: string, given: unknown): SynclineError {
  const problem =
    given === undefined || given === ""
      ? "secret is missing"
      : typeof given !== "string"
        ? `secret must be a string, got ${typeof given}`
        : `secret does not match share ${JSON.stringify(id)}`;
  return createError("ERR_SHARE_SECRET", `${context}: ${problem}`);
}

export function badRequest(message: string): SynclineError {
  return createError("ERR_SHARE_REQUEST", message);
}

export function tooLarge(message: string, items?: readonly ItemProblem[]): ShareError {
  const error = createError("ERR_SHARE_TOO_LARGE", message);
  return items ? Object.assign(error, { items }) : error;
}

/** A sync that would take share `id` over its size limit (all bytes of content JSON). */
export function shareTooLarge(
  id: string,
  currentBytes: number,
  growthBytes: number,
  limitBytes: number,
): ShareError {
  return tooLarge(
    `share sync: share ${JSON.stringify(id)} holds ${currentBytes} bytes of content JSON (counting writes in flight); this request would add ${growthBytes}, more than the limit of ${limitBytes} bytes per share; nothing was applied (delete or shrink keys, or raise share_max_bytes)`,
  );
}

/** A sync that would take all stored shares over the server's quota (share_total_max_bytes). */
export function shareQuotaExceeded(
  id: string,
  totalBytes: number,
  growthBytes: number,
  quotaBytes: number,
): SynclineError {
  return createError(
    "ERR_SHARE_QUOTA",
    `share sync: share ${JSON.stringify(id)} would add ${growthBytes} bytes of content JSON, but all shares hold ${totalBytes} of the server's quota of ${quotaBytes} bytes (share_total_max_bytes); nothing was applied (delete shares, or raise the quota)`,
  );
}

/**
 * A share that cannot be loaded, or grown, now: loaded shares hold `loadedBytes` of the budget of
 * `budgetBytes` (all bytes of content JSON), `neededBytes` more do not fit, and evicting every
 * idle share would not make room.
 */
export function memoryBudgetExceeded(
  context: string,
  id: string,
  loadedBytes: number,
  neededBytes: number,
  budgetBytes: number,
): SynclineError {
  return createError(
    "ERR_SHARE_MEMORY_BUDGET",
    `${context}: share ${JSON.stringify(id)} needs ${neededBytes} more bytes of content in memory, but loaded shares hold ${loadedBytes} of the server's budget of ${budgetBytes} bytes (share_memory_budget) and the shares that could leave memory would not make room; nothing was applied, retry later`,
  );
}

export function storageFailed(context: string, id: string, cause: unknown): SynclineError {
  return createError(
    "ERR_SHARE_STORAGE",
    `${context}: storage of share ${JSON.stringify(id)} failed: ${describeError(cause)}; nothing was applied, retry`,
    { cause },
  );
}

/**
 * A request for a share whose delete is under way: whether it still exists is not known until the
 * store's delete settles (a failed delete leaves it as it was), so the client is told to retry
 * rather than told it is gone.
 */
export function shareDeleting(context: string, id: string): SynclineError {
  return createError(
    "ERR_SHARE_DELETING",
    `${context}: share ${JSON.stringify(id)} is being deleted; nothing was applied, retry (it is gone if the delete succeeds)`,
  );
}

/** Runs a store operation of share `id`; its failure becomes a 503 naming the share. */
export async function storeOperation<T>(
  context: string,
  id: string,
  operation: () => Promise<T>,
): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    throw storageFailed(context, id, error);
  }
}
