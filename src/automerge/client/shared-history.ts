// Whether a local copy and the server's document are the same document, told from the server's
// first sync message alone, before any local change is sent. Automerge merges any two documents
// without complaint, so a `--file` that holds a different document than the id names would be
// silently mixed into it, on the server too; this is how the sync client notices first.

import * as Automerge from "@automerge/automerge";

/**
 * `true` when the two histories share a change, `false` when they share none, `undefined` when
 * it cannot be told yet (the server has nothing, or not all of its changes have arrived).
 * `merged` is the local copy with the server's message applied; `localHeads` its heads before.
 * (Heads, not the document before: Automerge updates a document's handle in place.)
 *
 * The server sends the changes we lack. When the histories share nothing, that is its whole
 * history: the changes not behind our old heads then depend only on each other. When they share
 * a change, the server does not send it (we have it), so some received change depends on a
 * change behind our heads, or a server head is itself behind them. A change the bloom filter
 * wrongly says we have can only make two unrelated documents look related (a missed warning),
 * never the reverse.
 */
export function sharesHistory(
  merged: Automerge.Doc<unknown>,
  localHeads: readonly string[],
  serverHeads: readonly string[],
): boolean | undefined {
  if (serverHeads.length === 0 || localHeads.length === 0) return undefined;
  if (!Automerge.hasHeads(merged, [...serverHeads])) return undefined;
  const received = Automerge.getChangesMetaSince(merged, [...localHeads]);
  const hashes = new Set(received.map((change) => change.hash));
  if (!serverHeads.every((head) => hashes.has(head))) return true;
  return !received.every((change) => change.deps.every((dep) => hashes.has(dep)));
}
