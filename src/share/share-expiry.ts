// Expiry (share_expire_after_ms): the shares not written for the time are deleted, one after
// another, as their owner would (viewers closed 4410, a tombstone left).

import { isSynclineError } from "../protocol/errors.js";
import type { ShareId } from "../protocol/share-items.js";
import type { ShareObserver } from "./share-hub-options.js";
import type { ShareUsage } from "./share-usage.js";

/** Deletes the shares `usage` says were not written for `ttl` ms, with `remove`. */
export async function expireUnwritten(
  usage: ShareUsage,
  ttl: number,
  remove: (id: ShareId) => Promise<void>,
  observer: ShareObserver,
): Promise<void> {
  for (const id of usage.writtenBefore(Date.now() - ttl)) {
    // Written while earlier ones were being deleted: not expired any more.
    if (!usage.isWrittenBefore(id, Date.now() - ttl)) continue;
    try {
      await remove(id);
      observer.expired?.(id);
    } catch (error) {
      // Gone already (deleted meanwhile), or the store failed: the next sweep tries again.
      const gone =
        isSynclineError(error, "ERR_SHARE_NOT_FOUND") ||
        isSynclineError(error, "ERR_SHARE_DELETED");
      if (gone) usage.deleted(id);
      else observer.error?.(error, `expiring share ${id}`);
    }
  }
}
