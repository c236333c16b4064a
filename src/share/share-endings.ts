// How a loaded share leaves when it ends: deleted (here or through another node), or dropped
// because its copy fell behind the store for good. Shared by the hub's delete and the cross-node
// news (share-nodes.ts).

import { ShareCloseCode } from "../protocol/close-codes.js";
import { encodeDeletedFrame } from "../protocol/share-frames.js";
import { EncodedFrame } from "./encoded-frame.js";
import { type LiveShare, moveShare, reloadCloseCode, reloadCloseReason } from "./live-share.js";
import type { LoadedShares } from "./loaded-shares.js";
import type { ShareObserver } from "./share-hub-options.js";

/** A share being deleted is gone: its viewers get a last frame saying why, then 4410. */
export function endDeleted(share: LiveShare, deletedAt: number, loaded: LoadedShares): void {
  moveShare(share, { name: "deleted" });
  // A last frame says why, with a string key (OpenCode's viewer splits every frame's key).
  const frame = encodeDeletedFrame(share.id, deletedAt);
  share.fanout.broadcast([new EncodedFrame(Buffer.from(frame))]);
  share.fanout.closeAll(ShareCloseCode.deleted, "share deleted");
  loaded.drop(share);
}

/**
 * This node's copy of `share` cannot catch up with the store: it fails, its viewers reconnect
 * (and get the share loaded again), and it leaves memory once nothing of it is in flight.
 */
export function failStale(
  share: LiveShare,
  reason: string,
  loaded: LoadedShares,
  observer: ShareObserver,
): void {
  if (share.phase.name !== "live") return;
  moveShare(share, { name: "failed" });
  observer.error?.(new Error(reason), `share ${share.id}: catching up with other nodes`);
  share.fanout.closeAll(reloadCloseCode, reloadCloseReason);
  if (share.inFlight === 0) loaded.drop(share);
}
