// Persistence of Automerge documents on the Store interface: a compacted snapshot plus appended
// incremental chunks per document, written through the group commit.
//
// Key layout (every key starts with "automerge"):
//   ["automerge", "server", "storage-id"]        the server's storage id (a UUID, made once)
//   ["automerge", "doc", <documentId>, "snapshot"] A.save() of the document at some point
//   ["automerge", "doc", <documentId>, "inc", <seq>] A.saveSince() chunks appended after it;
//                                                   <seq> is 12 decimal digits, so key order is
//                                                   append order
// A document exists when any key under ["automerge", "doc", <documentId>] exists. Compaction
// writes a new snapshot and deletes the chunks it covers in one atomic batch, so a crash at any
// point leaves a loadable document (chunks repeated in a snapshot load as no-ops).

import { randomUUID } from "node:crypto";
import { createError } from "../protocol/errors.js";
import type { Store, StoreKey, StoreOp } from "../storage/store.js";
import { type DocBackend, loadDoc } from "./automerge-backend.js";
import { type DocumentEntry, sameHeads } from "./document-entry.js";
import type { GroupCommit } from "./group-commit.js";

/** What is stored of one document, as the store holds it now. */
export interface StoredData {
  /** The snapshot followed by every chunk after it, as one array. */
  readonly data: Uint8Array;
  /** Bytes of the snapshot and chunks. */
  readonly bytes: number;
  /** Chunks appended since the snapshot. */
  readonly chunks: number;
  /** The sequence number of the first chunk after the snapshot. */
  readonly firstSeq: number;
  /** The sequence number the next chunk takes. */
  readonly nextSeq: number;
}

/** A stored document loaded on this thread. */
export interface StoredDocument extends StoredData {
  /** The document, loaded from the snapshot and every chunk after it. */
  readonly doc: DocBackend;
}

const root = "automerge";
const docPrefix = (documentId: string): StoreKey => [root, "doc", documentId];
const snapshotKey = (documentId: string): StoreKey => [root, "doc", documentId, "snapshot"];
const chunkKey = (documentId: string, seq: number): StoreKey => [
  root,
  "doc",
  documentId,
  "inc",
  String(seq).padStart(12, "0"),
];

/** Reads and writes documents; every write goes through `commit` and resolves once durable. */
export class DocumentStore {
  readonly #store: Store;
  readonly #commit: GroupCommit;

  constructor(store: Store, commit: GroupCommit) {
    this.#store = store;
    this.#commit = commit;
  }

  /** True when the store holds the document: one key lookup, nothing loaded. */
  async exists(documentId: string): Promise<boolean> {
    for await (const _ of this.#store.range(docPrefix(documentId), { limit: 1 })) return true;
    return false;
  }

  /** Deletes every key of the document, once the writes queued before it are durable. */
  async remove(documentId: string): Promise<void> {
    await this.#commit.flush();
    await this.#store.deletePrefix(docPrefix(documentId));
  }

  /** What the store holds of the document, not loaded; undefined when it has nothing. */
  async read(documentId: string): Promise<StoredData | undefined> {
    const parts: Uint8Array[] = [];
    let bytes = 0;
    let chunks = 0;
    let firstSeq = -1;
    let nextSeq = 0;
    for await (const { key, value } of this.#store.range(docPrefix(documentId))) {
      if (key[3] === "inc") {
        chunks += 1;
        if (firstSeq < 0) firstSeq = Number(key[4]);
        nextSeq = Number(key[4]) + 1;
        parts.push(value);
      } else if (key[3] === "snapshot") {
        parts.unshift(value); // "inc" sorts before "snapshot"; the snapshot loads first
      }
      bytes += value.length;
    }
    if (parts.length === 0) return undefined;
    const data = concat(parts, bytes);
    return { data, bytes, chunks, firstSeq: firstSeq < 0 ? nextSeq : firstSeq, nextSeq };
  }

  /** Loads what `read` returned into a document on this thread. */
  decode(documentId: string, stored: StoredData): StoredDocument {
    try {
      return { ...stored, doc: loadDoc(stored.data) };
    } catch (error) {
      throw createError(
        "ERR_UNEXPECTED",
        `automerge store: document ${documentId} cannot be loaded: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }

  /** Loads the document, or undefined when the store has none. */
  async load(documentId: string): Promise<StoredDocument | undefined> {
    const stored = await this.read(documentId);
    return stored && this.decode(documentId, stored);
  }

  /**
   * Appends what `entry`'s document has beyond its durable heads as one chunk and, once durable,
   * records the new heads; false (nothing written) when the heads did not move. A document with
   * nothing stored yet is written as a snapshot instead: `save()` output is compressed and loads
   * several times faster than the same changes as a chunk (a new document is usually pushed
   * whole, in one message).
   */
  async saveChanges(entry: DocumentEntry): Promise<boolean> {
    const doc = entry.doc as DocBackend;
    const heads = doc.getHeads();
    if (sameHeads(heads, entry.savedHeads)) return false;
    const snapshot = needsSnapshot(entry);
    await this.saveBytes(entry, snapshot ? doc.save() : doc.saveSince(entry.savedHeads), heads);
    return true;
  }

  /**
   * Stores `bytes` made from `entry`'s document (by `saveChanges`, or a worker thread): a
   * snapshot when `needsSnapshot(entry)`, else the chunk since its saved heads. Once durable,
   * `heads` are the saved heads.
   */
  async saveBytes(entry: DocumentEntry, bytes: Uint8Array, heads: string[]): Promise<void> {
    if (needsSnapshot(entry)) {
      await this.#commit.write([{ type: "put", key: snapshotKey(entry.documentId), value: bytes }]);
      entry.savedHeads = heads;
      entry.storedBytes = bytes.length;
      return;
    }
    const seq = entry.nextSeq++;
    await this.#commit.write([{ type: "put", key: chunkKey(entry.documentId, seq), value: bytes }]);
    entry.savedHeads = heads;
    entry.storedBytes += bytes.length;
    entry.chunks += 1;
  }

  /**
   * Replaces `entry`'s chunks by a snapshot of its document in one atomic batch (the caller
   * keeps the document idle meanwhile); resolves once durable.
   */
  compact(entry: DocumentEntry): Promise<void> {
    return this.replaceChunks(entry, (entry.doc as DocBackend).save());
  }

  /** Writes `snapshot` (of `entry`'s document now) and deletes the chunks it covers. */
  async replaceChunks(entry: DocumentEntry, snapshot: Uint8Array): Promise<void> {
    const { documentId, firstSeq, nextSeq } = entry;
    const ops: StoreOp[] = [{ type: "put", key: snapshotKey(documentId), value: snapshot }];
    for (let seq = firstSeq; seq < nextSeq; seq++) {
      ops.push({ type: "delete", key: chunkKey(documentId, seq) });
    }
    await this.#commit.write(ops);
    entry.firstSeq = nextSeq;
    entry.chunks = 0;
    entry.storedBytes = snapshot.length;
  }

  /** The server's storage id, created and stored on first use. */
  async storageId(): Promise<string> {
    const key = [root, "server", "storage-id"];
    const stored = await this.#store.get(key);
    if (stored) return new TextDecoder().decode(stored);
    const id = randomUUID();
    await this.#commit.write([{ type: "put", key, value: new TextEncoder().encode(id) }]);
    return id;
  }
}

/** True when nothing is stored of the document yet: its first write is a snapshot. */
export function needsSnapshot(entry: DocumentEntry): boolean {
  return entry.storedBytes === 0 && entry.savedHeads.length === 0;
}

function concat(parts: readonly Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array;
  const out = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
