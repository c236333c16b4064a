import * as A from "@automerge/automerge";
import { describe, expect, it } from "vitest";
import type { Store } from "../storage/store.js";
import { generateDocumentId } from "../util/ids.js";
import { loadDoc } from "./automerge-backend.js";
import { createEntry, type DocumentEntry } from "./document-entry.js";
import { DocumentStore } from "./document-store.js";
import { createGroupCommit } from "./group-commit.js";
import { createMapStore } from "./testing/map-store.js";

const setup = () => {
  const store = createMapStore();
  return { store, docs: new DocumentStore(store, createGroupCommit(store)) };
};

const keysOf = async (store: Store) => {
  const keys: string[] = [];
  for await (const { key } of store.range([])) keys.push(key.join("/"));
  return keys;
};

/** Points the entry at (a WASM copy of) `doc`, as if the hub had received its changes. */
const setDoc = (entry: DocumentEntry, doc: A.Doc<unknown>) => {
  entry.doc?.free();
  entry.doc = loadDoc(A.save(doc));
};

describe("DocumentStore", () => {
  it("knows nothing of a document never written", async () => {
    const { docs } = setup();
    const id = generateDocumentId();
    expect(await docs.exists(id)).toBe(false);
    expect(await docs.load(id)).toBeUndefined();
  });

  it("writes a new document as a snapshot, then appends one chunk per save", async () => {
    const { store, docs } = setup();
    const id = generateDocumentId();
    const entry = createEntry(id);
    let doc = A.from<{ n: number[] }>({ n: [] });
    for (let i = 0; i < 3; i++) {
      doc = A.change(doc, (d) => d.n.push(i));
      setDoc(entry, doc);
      expect(await docs.saveChanges(entry)).toBe(true);
    }
    expect(await docs.saveChanges(entry)).toBe(false); // heads did not move: nothing written
    expect(await docs.exists(id)).toBe(true);
    const loaded = await docs.load(id);
    expect(loaded?.doc.getHeads()).toEqual(A.getHeads(doc));
    expect(loaded).toMatchObject({ chunks: 2, firstSeq: 0, nextSeq: 2 });
    expect(await keysOf(store)).toEqual([
      `automerge/doc/${id}/inc/000000000000`,
      `automerge/doc/${id}/inc/000000000001`,
      `automerge/doc/${id}/snapshot`,
    ]);
  });

  it("compaction replaces the covered chunks by one snapshot, atomically", async () => {
    const { store, docs } = setup();
    const id = generateDocumentId();
    const entry = createEntry(id);
    let doc = A.from({ a: 1 });
    setDoc(entry, doc);
    await docs.saveChanges(entry);
    doc = A.change(doc, (d) => {
      d.a = 2;
    });
    setDoc(entry, doc);
    await docs.saveChanges(entry);
    await docs.compact(entry);
    expect(await keysOf(store)).toEqual([`automerge/doc/${id}/snapshot`]);
    expect(entry).toMatchObject({ chunks: 0, firstSeq: 1, nextSeq: 1 });
    doc = A.change(doc, (d) => {
      d.a = 3;
    });
    setDoc(entry, doc);
    await docs.saveChanges(entry);
    const loaded = await docs.load(id);
    expect(loaded?.doc.getHeads()).toEqual(A.getHeads(doc));
    expect(loaded).toMatchObject({ chunks: 1, firstSeq: 1, nextSeq: 2 });
    expect(A.load<{ a: number }>(A.save(A.load(A.save(doc)))).a).toBe(3);
  });

  it("keeps one storage id across instances on the same store", async () => {
    const { store, docs } = setup();
    const id = await docs.storageId();
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(await new DocumentStore(store, createGroupCommit(store)).storageId()).toBe(id);
  });
});
