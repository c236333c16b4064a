// One share as it is held in memory: its durable state, its viewers, the tail of its serialized
// writes and the bookkeeping that decides when it may leave memory. loaded-shares.ts creates and
// forgets it; the publish path and the hub's delete move its phase.

import { ShareCloseCode } from "../protocol/close-codes.js";
import { createError } from "../protocol/errors.js";
import type { ShareId } from "../protocol/share-items.js";
import type { ShareObserver, ShareSettings } from "./share-hub-options.js";
import { ShareState } from "./share-state.js";
import { epochOf, type ShareMeta, type StoredShare } from "./share-storage.js";
import { ViewerFanout } from "./viewer-fanout.js";

/**
 * The phase of a loaded share; moveShare is the only way to change it. `live`: the copy the
 * registry holds, serving. `deleting`: its delete is under way (requests are told to retry: a
 * failed delete leaves the share as it was). `deleted`: gone. `failed`: a write or its delete
 * failed; its viewers were told to reconnect and the next request loads the share again.
 * `evicted`: it left memory while live (idle, or at shutdown); a request that still holds this
 * copy loads the share again.
 */
export type SharePhase =
  | { readonly name: "live" }
  | { readonly name: "deleting" }
  | { readonly name: "deleted" }
  | { readonly name: "failed" }
  | { readonly name: "evicted" };

const legalMoves: Record<SharePhase["name"], readonly SharePhase["name"][]> = {
  live: ["deleting", "failed", "evicted"],
  // A failed share stays in memory until its writes in flight settle, and may be deleted then.
  failed: ["deleting"],
  deleting: ["deleted", "failed"],
  deleted: [],
  // Only at shutdown is a share with a write in flight let go; that write may still fail.
  evicted: ["failed"],
};

/** Moves `share` to `next`; throws ERR_UNEXPECTED when its phase does not lead there. */
export function moveShare(share: LiveShare, next: SharePhase): void {
  if (!legalMoves[share.phase.name].includes(next.name)) {
    throw createError(
      "ERR_UNEXPECTED",
      `share ${share.id}: cannot move from ${share.phase.name} to ${next.name}`,
    );
  }
  share.phase = next;
}

/** A loaded share. */
export interface LiveShare {
  readonly id: ShareId;
  readonly meta: ShareMeta;
  readonly state: ShareState;
  readonly fanout: ViewerFanout;
  /** Settles when every write issued so far is committed and broadcast (never rejects). */
  tail: Promise<void>;
  /** Writes (and a delete) under way: while any is, the share stays in memory. */
  inFlight: number;
  /** HTTP readers being streamed its state: while any is, the share stays in memory. */
  readers: number;
  /** When a request or a viewer last used it, ms: the idle sweep and eviction order read it. */
  lastUsed: number;
  /** Changed only through moveShare. */
  phase: SharePhase;
}

/** Viewers are closed with this when the share must be reloaded from the store. */
export const reloadCloseCode = ShareCloseCode.storageFailed;
export const reloadCloseReason = "share storage failed; reconnect";

/** A share read from the store, in memory with no viewers and nothing in flight. */
export function createLiveShare(
  id: ShareId,
  record: StoredShare,
  settings: ShareSettings,
  observer: ShareObserver,
): LiveShare {
  const state = new ShareState(
    record.items,
    record.seq,
    { maxFrames: settings.shareCatchupFrames, maxBytes: settings.shareCatchupBytes },
    epochOf(record.meta),
  );
  if (record.log !== undefined && record.log.length > 0) state.seedLog(record.log);
  return {
    id,
    meta: record.meta,
    state,
    fanout: new ViewerFanout(
      {
        maxBufferedBytes: settings.shareViewerMaxBufferedBytes,
        flushIntervalMs: settings.shareViewerFlushMs,
      },
      {
        delivered: (count) => observer.delivered?.(count),
        slowViewer: () => observer.slowViewer?.(),
      },
    ),
    tail: Promise.resolve(),
    inFlight: 0,
    readers: 0,
    lastUsed: Date.now(),
    phase: { name: "live" },
  };
}

/**
 * A share that may leave memory: live (one failed or being deleted is dropped by whoever holds
 * it, when done), without viewers, readers or writes in flight. Readers and viewers hold its
 * snapshot's bytes while they stream: were it let go, those bytes would stay in memory unseen by
 * the memory budget.
 */
export function isIdle(share: LiveShare): boolean {
  return (
    share.phase.name === "live" &&
    share.fanout.size === 0 &&
    share.readers === 0 &&
    share.inFlight === 0
  );
}
