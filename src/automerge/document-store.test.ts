import * as A from "@automerge/automerge";
import { describe, expect, it } from "vitest";
import type { Store } from "../storage/store.js";
import { generateDocumentId } from "../util/ids.js";
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

describe("DocumentStore", () => {
  it("knows nothing of a document never written", async () => {
    const { docs } = setup();
    const id = generateDocumentId();
    expect(await docs.exists(id)).toBe(false);
    expect(await docs.load(id)).toBeUndefined();
  });

  it("appends chunks and loads them back in order", async () => {
    const { store, docs } = setup();
    const id = generateDocumentId();
    let doc = A.from<{ n: number[] }>({ n: [] });
    let heads: A.Heads = [];
    for (let seq = 0; seq < 3; seq++) {
      doc = A.change(doc, (d) => d.n.push(seq));
      await docs.append(id, seq, A.saveSince(doc, heads));
      heads = A.getHeads(doc);
    }
    expect(await docs.exists(id)).toBe(true);
    const loaded = await docs.load(id);
    expect(loaded?.doc.getHeads()).toEqual(heads);
    expect(loaded).toMatchObject({ chunks: 3, firstSeq: 0, nextSeq: 3 });
    expect(await keysOf(store)).toEqual([
      `automerge/doc/${id}/inc/000000000000`,
      `automerge/doc/${id}/inc/000000000001`,
      `automerge/doc/${id}/inc/000000000002`,
    ]);
  });

  it("compaction replaces the covered chunks by one snapshot, atomically", async () => {
    const { store, docs } = setup();
    const id = generateDocumentId();
    let doc = A.from({ a: 1 });
    await docs.append(id, 0, A.saveSince(doc, []));
    const first = A.getHeads(doc);
    doc = A.change(doc, (d) => {
      d.a = 2;
    });
    await docs.append(id, 1, A.saveSince(doc, first));
    await docs.compact(id, A.save(doc), 0, 2);
    expect(await keysOf(store)).toEqual([`automerge/doc/${id}/snapshot`]);
    const compacted = A.getHeads(doc);
    doc = A.change(doc, (d) => {
      d.a = 3;
    });
    await docs.append(id, 2, A.saveSince(doc, compacted));
    const loaded = await docs.load(id);
    expect(loaded?.doc.getHeads()).toEqual(A.getHeads(doc));
    expect(loaded).toMatchObject({ chunks: 1, firstSeq: 2, nextSeq: 3 });
  });

  it("keeps one storage id across instances on the same store", async () => {
    const { store, docs } = setup();
    const id = await docs.storageId();
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(await new DocumentStore(store, createGroupCommit(store)).storageId()).toBe(id);
  });
});
