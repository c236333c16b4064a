// Control frames on the viewer WebSocket: frames whose key lies under `share/` are about the
// share itself, not its content, so the client never stores them. Today there is one,
// `{"key":"share/deleted","content":{"id","deletedAt"}}`, sent just before the 4410 close; any
// other `share/` key is one a newer server knows and this client does not, and is skipped (its
// `seq`, when it has one, still counts, so the sequence stays gapless). Pure.

import { controlKeyRoot, deletedFrameKey } from "../../protocol/share-frames.js";

/** What a frame's key asks of the client: keep its content, end as deleted, or skip it. */
export type FrameKeyKind = "content" | "deleted" | "skipped";

/** Classifies a frame's key (see the file comment). */
export function frameKeyKind(key: string): FrameKeyKind {
  if (key === deletedFrameKey) return "deleted";
  return key.split("/", 1)[0] === controlKeyRoot ? "skipped" : "content";
}

/** True when an HTTP status (of a refused upgrade or of the data probe) means "deleted for good". */
export function isDeletedStatus(status: number): boolean {
  return status === 410;
}
