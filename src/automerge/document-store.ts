// Persistence of Automerge documents on the Store interface: snapshots and incremental chunks per
// document, each stored under a key named by a hash of its bytes, written through the group
// commit. Several nodes may append to and compact one document in one store (see
// document-nodes.ts): no key is ever rewritten with other bytes, so no node overwrites another's.
//
// Key layout (every key starts with "automerge"):
//   ["automerge", "server", "storage-id"]                 the server's storage id (a UUID)
//   ["automerge", "doc", <documentId>, "snapshot", <hash>] A.save() of the document as one node
//                                                         had it (a new document's first write,
//                                                         or a compaction)
//   ["automerge", "doc", <documentId>, "inc", <hash>]      an A.saveSince() chunk: what one round
//                                                         added
// <hash> is the SHA-256 of the value, base64url (43 characters). Older servers wrote one
// ["automerge", "doc", <documentId>, "snapshot"] and chunks ["…", "inc", <12 decimal digits>]:
// they are read as any other piece, and deleted by the next compaction that includes them.
//
// A document is every piece under ["automerge", "doc", <documentId>], loaded together: Automerge
// loads a concatenation of snapshots and chunks in any order (document-store-nodes.test.ts checks
// 3.5.0 with every order of overlapping snapshots and chunks of two actors; changes repeated in
// several pieces load as no-ops), and refuses one whose changes miss a dependency. A compaction
// writes a new snapshot and deletes, in the same atomic batch, only the pieces its document is
// known to include (DocumentEntry.storedKeys): a piece another node wrote and this one never
// applied stays, so two nodes compacting at once lose nothing, and a crash at any point leaves a
// loadable document.

import { createHash, randomUUID } from "node:crypto";
import { createError } from "../protocol/errors.js";
import type { Store, StoreKey, StoreOp } from "../storage/store.js";
import { type DocBackend, loadDoc } from "./automerge-backend.js";
import { type DocumentEntry, recordPiece, sameHeads } from "./document-entry.js";
import type { GroupCommit } from "./group-commit.js";

/** What is stored of one document, as the store holds it now. */
export interface StoredData {
  /** Every piece (snapshots first, then chunks), as one array. */
  readonly data: Uint8Array;
  /** Bytes of all pieces. */
  readonly bytes: number;
  /** Pieces beyond the first: what a compaction would fold into one snapshot. */
  readonly chunks: number;
  /** The names of the pieces read (see pieceName), in key order. */
  readonly keys: readonly string[];
}

/** A stored document loaded on this thread. */
export interface StoredDocument extends StoredData {
  /** The document, loaded from every piece. */
  readonly doc: DocBackend;
}

/** One stored piece: its name (see pieceName) and its bytes. */
export interface StoredPiece {
  readonly name: string;
  readonly value: Uint8Array;
}

/** Told of every piece once durable (the hub tells the other nodes). */
export type PieceListener = (documentId: string, name: string, bytes: Uint8Array) => void;

const root = "automerge";
const docPrefix = (documentId: string): StoreKey => [root, "doc", documentId];

/**
 * A piece's name: its key below the document's prefix, segments joined by "/" ("inc/<hash>",
 * "snapshot/<hash>", or an old server's "snapshot" and "inc/000000000007").
 */
export const pieceName = (key: StoreKey): string => key.slice(3).join("/");
const pieceKey = (documentId: string, name: string): StoreKey => [
  ...docPrefix(documentId),
  ...name.split("/"),
];

/** The name a value of `kind` takes: named by its hash, so equal bytes share one key. */
export function nameOf(kind: "inc" | "snapshot", bytes: Uint8Array): string {
  return `${kind}/${createHash("sha256").update(bytes).digest("base64url")}`;
}

/** True for a name this server writes (what another node may announce). */
export function isPieceName(name: unknown): name is string {
  return typeof name === "string" && /^(inc|snapshot)\/[A-Za-z0-9_-]{43}$/.test(name);
}

/** Reads and writes documents; every write goes through `commit` and resolves once durable. */
export class DocumentStore {
  readonly #store: Store;
  readonly #commit: GroupCommit;
  readonly #stored: PieceListener | undefined;

  constructor(store: Store, commit: GroupCommit, stored?: PieceListener) {
    this.#store = store;
    this.#commit = commit;
    this.#stored = stored;
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
    const pieces = await this.readPieces(documentId, new Set());
    if (pieces.length === 0) return undefined;
    // Snapshots first: not needed for correctness (any order loads), but the usual case, one
    // snapshot and its chunks, then loads as fast as before.
    const ordered = [
      ...pieces.filter((piece) => piece.name.startsWith("snapshot")),
      ...pieces.filter((piece) => !piece.name.startsWith("snapshot")),
    ];
    const bytes = pieces.reduce((total, piece) => total + piece.value.length, 0);
    return {
      data: concat(
        ordered.map((piece) => piece.value),
        bytes,
      ),
      bytes,
      chunks: pieces.length - 1,
      keys: pieces.map((piece) => piece.name),
    };
  }

  /** The document's pieces whose names are not in `known`, in key order. */
  async readPieces(documentId: string, known: ReadonlySet<string>): Promise<StoredPiece[]> {
    const pieces: StoredPiece[] = [];
    for await (const { key, value } of this.#store.range(docPrefix(documentId))) {
      const name = pieceName(key);
      // Only pieces: a key of another kind under the prefix is no part of the document.
      if ((key[3] === "inc" || key[3] === "snapshot") && !known.has(name)) {
        pieces.push({ name, value });
      }
    }
    return pieces;
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
   * `heads` are the saved heads, the piece is one the document includes, and the listener hears
   * of it.
   */
  async saveBytes(entry: DocumentEntry, bytes: Uint8Array, heads: string[]): Promise<void> {
    const name = nameOf(needsSnapshot(entry) ? "snapshot" : "inc", bytes);
    const { documentId } = entry;
    await this.#commit.write([{ type: "put", key: pieceKey(documentId, name), value: bytes }]);
    entry.savedHeads = heads;
    recordPiece(entry, name, bytes.length);
    this.#stored?.(documentId, name, bytes);
  }

  /**
   * Replaces `entry`'s pieces by a snapshot of its document in one atomic batch (the caller
   * keeps the document idle meanwhile); resolves once durable.
   */
  compact(entry: DocumentEntry): Promise<void> {
    return this.replaceChunks(entry, (entry.doc as DocBackend).save());
  }

  /**
   * Writes `snapshot` (of `entry`'s document now) and deletes the pieces the document includes,
   * and no other: a piece another node stored meanwhile is not in this snapshot.
   */
  async replaceChunks(entry: DocumentEntry, snapshot: Uint8Array): Promise<void> {
    const { documentId } = entry;
    const name = nameOf("snapshot", snapshot);
    const ops: StoreOp[] = [{ type: "put", key: pieceKey(documentId, name), value: snapshot }];
    for (const known of entry.storedKeys) {
      // The same snapshot again (nothing changed since the last one) must not delete itself.
      if (known !== name) ops.push({ type: "delete", key: pieceKey(documentId, known) });
    }
    await this.#commit.write(ops);
    entry.storedKeys.clear();
    entry.storedKeys.add(name);
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
