import { createHash } from "node:crypto";
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
    expect(loaded).toMatchObject({ chunks: 2 });
    // Each key is named by the SHA-256 of its bytes.
    const keys = await keysOf(store);
    expect(keys).toHaveLength(3);
    expect(keys.filter((key) => key.startsWith(`automerge/doc/${id}/inc/`))).toHaveLength(2);
    expect(keys.filter((key) => key.startsWith(`automerge/doc/${id}/snapshot/`))).toHaveLength(1);
    for await (const { key, value } of store.range(["automerge", "doc", id])) {
      expect(key[4]).toBe(createHash("sha256").update(value).digest("base64url"));
    }
    expect([...entry.storedKeys].sort()).toEqual(
      keys.map((key) => key.split("/").slice(3).join("/")).sort(),
    );
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
    const keys = await keysOf(store);
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(new RegExp(`^automerge/doc/${id}/snapshot/[\\w-]{43}$`));
    expect(entry).toMatchObject({ chunks: 0 });
    expect(entry.storedKeys.size).toBe(1);
    doc = A.change(doc, (d) => {
      d.a = 3;
    });
    setDoc(entry, doc);
    await docs.saveChanges(entry);
    const loaded = await docs.load(id);
    expect(loaded?.doc.getHeads()).toEqual(A.getHeads(doc));
    expect(loaded).toMatchObject({ chunks: 1 });
    expect(A.load<{ a: number }>(A.save(A.load(A.save(doc)))).a).toBe(3);
  });

  it("keeps one storage id across instances on the same store", async () => {
    const { store, docs } = setup();
    const id = await docs.storageId();
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(await new DocumentStore(store, createGroupCommit(store)).storageId()).toBe(id);
  });
});
