// Applies other nodes' news (document-nodes.ts) to a document on this thread, in its runner's
// round: the pieces they announced, and, when news may be missing, every stored piece the
// document does not include yet. What is applied is durable already (it was read from the store,
// or announced once durable there), so the saved heads move with it and nothing is written.

import type { DocBackend } from "./automerge-backend.js";
import { type DocumentEntry, type NodeJob, recordPiece, sameHeads } from "./document-entry.js";
import type { HubObserver } from "./document-hub-options.js";
import { type DocumentStore, isPieceName, nameOf, type StoredPiece } from "./document-store.js";

/**
 * The calls of the WASM document this needs beyond the hub's usual slice (DocBackend): both are
 * methods of the same handle.
 */
interface PieceTarget extends DocBackend {
  /** Applies a snapshot or chunk; changes whose dependencies are missing wait in a queue. */
  loadIncremental(data: Uint8Array): number;
  /** With no heads: the dependencies the queued changes wait for. */
  getMissingDeps(heads: string[]): string[];
}

/**
 * Applies `jobs` to `entry`'s document (on this thread, held by its runner). A piece is recorded
 * as included (so a compaction may delete it) only once nothing waits in Automerge's queue:
 * `save()` leaves queued changes out, and deleting the piece that holds them would lose them.
 * A piece that cannot be applied, or that leaves changes waiting, makes it read the store.
 */
export async function catchUp(
  entry: DocumentEntry,
  jobs: readonly NodeJob[],
  docs: DocumentStore,
  observer: HubObserver,
): Promise<void> {
  const doc = entry.doc as PieceTarget;
  // Each round ends with its write, so the document holds nothing unsaved here; were it to,
  // the saved heads stay and the next write carries these changes once more (harmless).
  const durable = sameHeads(doc.getHeads(), entry.savedHeads);
  const applied: StoredPiece[] = [];
  const seen = new Set(entry.storedKeys);
  let refresh = false;
  for (const job of jobs) {
    if (job.type === "refresh") refresh = true;
    else if (!seen.has(job.name)) {
      // One that fails is read again from the store below (the store is the truth). Its name is
      // its hash: bytes that do not match it are not that piece (Automerge skips what it cannot
      // parse in a document that has content, so applying them would not tell).
      if (!intact(job.name, job.data) || !apply(doc, job.data)) refresh = true;
      else {
        seen.add(job.name);
        applied.push({ name: job.name, value: job.data });
      }
    }
  }
  if (refresh || waiting(doc)) {
    for (const piece of await docs.readPieces(entry.documentId, seen)) {
      if (intact(piece.name, piece.value) && apply(doc, piece.value)) applied.push(piece);
      else {
        observer.error?.(
          new Error(`stored piece ${piece.name} cannot be applied`),
          `reading automerge document ${entry.documentId} from the store`,
        );
      }
    }
  }
  if (waiting(doc)) {
    // The store showed a piece but not what it depends on (read while another node compacted):
    // they stay unrecorded, to be read again by the next refresh.
    observer.error?.(
      new Error("some changes wait for changes the store did not show yet"),
      `reading automerge document ${entry.documentId} from the store`,
    );
  } else {
    for (const piece of applied) recordPiece(entry, piece.name, piece.value.length);
  }
  if (durable) entry.savedHeads = doc.getHeads();
}

/** False for bytes that are not the piece so named (an old server's names say nothing). */
function intact(name: string, data: Uint8Array): boolean {
  if (!isPieceName(name)) return true;
  return name === nameOf(name.startsWith("snapshot/") ? "snapshot" : "inc", data);
}

function apply(doc: PieceTarget, data: Uint8Array): boolean {
  try {
    doc.loadIncremental(data);
    return true;
  } catch {
    return false;
  }
}

function waiting(doc: PieceTarget): boolean {
  return doc.getMissingDeps([]).length > 0;
}
