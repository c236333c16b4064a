// What a server has on disk for each Automerge document, read from outside the server's
// process: the reference's NodeFS directory, or syncline's LMDB file opened read-only (LMDB is
// multi-process safe; a committed transaction is visible to other processes at once).

import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { open, type RootDatabase } from "lmdb";
import { databaseFileName } from "../../src/storage/lmdb-store.js";
import { decodeKey } from "../../src/storage/store-key.js";

/** One stored value of a document (a file, an LMDB entry). */
export interface StoredChunk {
  /** Its name (path or key); with `size`, tells a new or rewritten chunk from one seen. */
  readonly name: string;
  readonly size: number;
  /** Its bytes, or undefined if it is gone meanwhile (a compaction removed it). */
  read(): Uint8Array | undefined;
}

/** Reads what is stored for a set of documents. */
export interface DiskReader {
  /** The chunks stored now for each of `ids` that has any. */
  read(ids: Iterable<string>): Map<string, StoredChunk[]>;
  close(): void;
}

/**
 * The reference's layout (NodeFSStorageAdapter): `<dir>/<id[0..2]>/<id[2..]>/{snapshot,
 * incremental}/<hash>`, one file per chunk, written in place by `writeFile` (so a file may be
 * seen empty, then complete); sync states (`sync-state/`) are not the document.
 */
export function nodeFsReader(dir: string): DiskReader {
  // Per document: its directories' mtimes when last listed, and its chunks then. A document is
  // listed again only when a directory changed, when it had an empty file (being written), or
  // on every 20th poll (a safety net for changes within one mtime tick).
  const seen = new Map<string, { stamp: string; chunks: StoredChunk[]; settled: boolean }>();
  let polls = 0;
  return {
    read(ids) {
      polls++;
      const out = new Map<string, StoredChunk[]>();
      for (const id of ids) {
        const base = join(dir, id.slice(0, 2), id.slice(2));
        const dirs = [join(base, "snapshot"), join(base, "incremental")];
        const stamp = dirs.map(mtimeOf).join("/");
        const last = seen.get(id);
        let chunks: StoredChunk[];
        if (last && last.stamp === stamp && last.settled && polls % 20 !== 0) chunks = last.chunks;
        else {
          chunks = dirs.flatMap(chunksIn);
          seen.set(id, { stamp, chunks, settled: chunks.every((c) => c.size > 0) });
        }
        if (chunks.length > 0) out.set(id, chunks);
      }
      return out;
    },
    close() {},
  };
}

// `throwIfNoEntry: false`: most directories do not exist yet early on, and a thrown ENOENT
// (with its stack trace) costs the observer far more CPU than the stat itself.
function mtimeOf(path: string): number {
  return statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? 0;
}

function chunksIn(path: string): StoredChunk[] {
  if (mtimeOf(path) === 0) return [];
  let names: string[];
  try {
    names = readdirSync(path);
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    const file = join(path, name);
    const size = statSync(file, { throwIfNoEntry: false })?.size;
    return size === undefined ? [] : [{ name: file, size, read: () => readOrUndefined(file) }];
  });
}

function readOrUndefined(file: string): Uint8Array | undefined {
  try {
    return new Uint8Array(readFileSync(file));
  } catch {
    return undefined;
  }
}

/**
 * Syncline's LMDB store, read-only: every entry one of whose key segments is a document id
 * belongs to that document (the document store's layout is its own business; the observer
 * recognises Automerge chunks by loading them).
 */
export function lmdbReader(dir: string): DiskReader {
  const db: RootDatabase<Buffer, Buffer> = open<Buffer, Buffer>({
    path: join(dir, databaseFileName),
    keyEncoding: "binary",
    encoding: "binary",
    readOnly: true,
  });
  return {
    read(ids) {
      const wanted = new Set(ids);
      const out = new Map<string, StoredChunk[]>();
      db.resetReadTxn(); // see the transactions committed since the last poll
      for (const { key, value } of db.getRange({})) {
        const segments = decodeKey(key);
        const id = segments.find((segment) => wanted.has(segment));
        if (id === undefined) continue;
        const bytes = new Uint8Array(value); // a copy: LMDB's buffers do not outlive the scan
        const chunks = out.get(id) ?? [];
        out.set(id, chunks);
        chunks.push({ name: segments.join("/"), size: bytes.length, read: () => bytes });
      }
      return out;
    },
    close: () => void db.close(),
  };
}
