// How many Automerge changes a sync message carries, for `sync`'s changesSent. A message's
// `changes` are storage chunks: usually one change each, but to a peer that has nothing Automerge
// sends the whole document as a single document chunk, so counting entries would report a
// document of 45 changes as 1.

import * as Automerge from "@automerge/automerge";

/** Every Automerge storage chunk starts with these 4 bytes, then a 4-byte checksum, then its type. */
const chunkMagic = [0x85, 0x6f, 0x4a, 0x83] as const;
const chunkTypeOffset = 8;
/** Chunk type 0 is a whole document (1 and 2 are a change, plain or compressed). */
const documentChunkType = 0;

/** The changes in the encoded sync message `data`. */
export function changesInSyncMessage(data: Uint8Array): number {
  let count = 0;
  for (const chunk of Automerge.decodeSyncMessage(data).changes) count += changesInChunk(chunk);
  return count;
}

/** The changes in one chunk of a sync message: 1, or a document chunk's whole history. */
export function changesInChunk(chunk: Uint8Array): number {
  if (!isDocumentChunk(chunk)) return 1;
  // Its header does not say how many changes it holds: load it (the peer does the same).
  const doc = Automerge.load(chunk);
  try {
    return Automerge.stats(doc).numChanges;
  } finally {
    Automerge.free(doc);
  }
}

/** The number of changes `doc` holds. */
export function changeCount(doc: Automerge.Doc<unknown>): number {
  return Automerge.stats(doc).numChanges;
}

function isDocumentChunk(chunk: Uint8Array): boolean {
  return (
    chunk.length > chunkTypeOffset &&
    chunkMagic.every((byte, index) => chunk[index] === byte) &&
    chunk[chunkTypeOffset] === documentChunkType
  );
}
