// The answer to a peer that has nothing of a document yet (a `request` from a fresh client),
// kept while the document's heads stay the same: the next fresh peer gets the same replies and a
// clone of the resulting sync state, with no Automerge receive or generate work at all.

import type { DocBackend, PeerSyncState } from "./automerge-backend.js";
import type { DocumentEntry, PeerLink } from "./document-entry.js";

/** A cached first answer of one document. */
export interface FreshAnswer {
  /** The document's heads when the answer was made, joined. */
  readonly heads: string;
  /** The incoming sync message it answers (a fresh peer's first message, byte for byte). */
  readonly request: Uint8Array;
  /** The sync state after receiving `request` and generating `replies`. */
  readonly state: PeerSyncState;
  readonly replies: readonly Uint8Array[];
}

/** The cache key of a list of heads. */
export const headsKey = (heads: readonly string[]): string => heads.join(",");

/** True when `answer` answers `request` for a document whose heads are `heads`. */
export function answers(
  answer: FreshAnswer | undefined,
  request: Uint8Array,
  heads: readonly string[],
): answer is FreshAnswer {
  return (
    answer !== undefined &&
    Buffer.compare(answer.request, request) === 0 &&
    answer.heads === headsKey(heads)
  );
}

/**
 * What to send `link` now: replies taken from the cache at receive time, then whatever
 * Automerge generates (at most `maxRounds` messages). When this was the link's first exchange
 * and the heads did not move this round (`cacheable`), the answer becomes the entry's cached
 * fresh answer.
 */
export function takeReplies(
  entry: DocumentEntry,
  link: PeerLink,
  cacheable: boolean,
  maxRounds: number,
): Uint8Array[] {
  const doc = entry.doc as DocBackend;
  const state = link.state as PeerSyncState;
  const replies = [...(link.cached ?? [])];
  link.cached = undefined;
  for (let round = 0; round < maxRounds; round++) {
    const data = doc.generateSyncMessage(state);
    if (!data) break;
    replies.push(data);
  }
  if (link.firstMessage && cacheable && replies.length > 0) {
    entry.fresh?.state.free();
    entry.fresh = {
      heads: headsKey(doc.getHeads()),
      request: link.firstMessage,
      state: state.clone(),
      replies,
    };
  }
  link.firstMessage = undefined;
  return replies;
}
