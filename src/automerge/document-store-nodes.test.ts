// The content-addressed layout as several nodes use it: pieces load in any order, two nodes
// appending and compacting one document lose nothing, an old server's layout loads and is
// compacted away, and a piece whose changes wait for others is never taken as included.

import * as A from "@automerge/automerge";
import { describe, expect, it } from "vitest";
import type { Store } from "../storage/store.js";
import { generateDocumentId } from "../util/ids.js";
import { createDoc, type DocBackend, loadDoc } from "./automerge-backend.js";
import { createEntry, type DocumentEntry, loadInto } from "./document-entry.js";
import { DocumentStore } from "./document-store.js";
import { createGroupCommit } from "./group-commit.js";
import { catchUp } from "./node-catch-up.js";
import { createMapStore } from "./testing/map-store.js";

type Doc = { n: number[] };

const nodeOn = (store: Store) => new DocumentStore(store, createGroupCommit(store));

const keysOf = async (store: Store, id: string) => {
  const keys: string[] = [];
  for await (const { key } of store.range(["automerge", "doc", id]))
    keys.push(key.slice(3).join("/"));
  return keys;
};

/** An entry holding what the store has of the document now, as a node's load makes it. */
async function loaded(docs: DocumentStore, id: string): Promise<DocumentEntry> {
  const entry = createEntry(id);
  const stored = await docs.load(id);
  entry.advance({ type: "runner-started" });
  loadInto(entry, stored?.doc ?? createDoc(), stored);
  return entry;
}

/** Applies `change` to the entry's document as a peer's sync would, and saves it. */
async function edit(docs: DocumentStore, entry: DocumentEntry, value: number, actor: string) {
  const doc = entry.doc as DocBackend & { loadIncremental(data: Uint8Array): number };
  const before = A.load<Doc>(doc.save());
  const after = A.change(A.clone(before, { actor }), (d) => {
    if (!d.n) d.n = [];
    d.n.push(value);
  });
  doc.loadIncremental(A.saveSince(after, A.getHeads(before)));
  await docs.saveChanges(entry);
}

const valuesOf = async (docs: DocumentStore, id: string) => {
  const stored = await docs.load(id);
  if (!stored) throw new Error("nothing stored");
  return [...A.load<Doc>(stored.doc.save()).n].sort((a, b) => a - b);
};
describe("DocumentStore across nodes", () => {
  it("loads overlapping snapshots and chunks of two actors in every order", () => {
    let a = A.from<Doc>({ n: [] }, { actor: "aa" });
    const pieces: Uint8Array[] = [A.save(a)];
    let saved = A.getHeads(a);
    const base = A.clone(a, { actor: "bb" });
    for (let i = 0; i < 4; i++) {
      a = A.change(a, (d) => d.n.push(i));
      pieces.push(A.saveSince(a, saved));
      saved = A.getHeads(a);
      if (i === 1) pieces.push(A.save(a));
    }
    const b = A.change(base, (d) => d.n.push(100));
    pieces.push(A.save(b));
    const want = A.getHeads(A.merge(A.clone(a), b)).sort();
    const orders = permutations(pieces.map((_, index) => index));
    expect(orders.length).toBe(5040);
    for (const order of orders) {
      const doc = loadDoc(Buffer.concat(order.map((index) => pieces[index] as Uint8Array)));
      expect(doc.getHeads().sort()).toEqual(want);
      doc.free();
    }
  });

  it("two nodes appending and compacting one document lose no change", async () => {
    const store = createMapStore();
    const id = generateDocumentId();
    const [one, two] = [nodeOn(store), nodeOn(store)];
    const first = await loaded(one, id);
    await edit(one, first, 0, "a1");
    const second = await loaded(two, id);
    // Each appends what the other never hears of, then compacts: neither deletes the other's.
    for (let i = 1; i <= 3; i++) {
      await edit(one, first, i, "a1");
      await edit(two, second, 100 + i, "b2");
    }
    await one.compact(first);
    await edit(two, second, 104, "b2");
    await two.compact(second);
    await edit(one, first, 4, "a1");
    expect(await valuesOf(one, id)).toEqual([0, 1, 2, 3, 4, 101, 102, 103, 104]);
    // A node that loads everything and compacts leaves one snapshot with every change.
    const third = await loaded(one, id);
    await one.compact(third);
    expect(await keysOf(store, id)).toHaveLength(1);
    expect(await valuesOf(two, id)).toEqual([0, 1, 2, 3, 4, 101, 102, 103, 104]);
  });

  it("loads an old server's layout, and compaction removes its keys", async () => {
    const store = createMapStore();
    const id = generateDocumentId();
    let doc = A.from<Doc>({ n: [0] });
    const ops = [
      { type: "put" as const, key: ["automerge", "doc", id, "snapshot"], value: A.save(doc) },
    ];
    for (let seq = 0; seq < 3; seq++) {
      const before = A.getHeads(doc);
      doc = A.change(doc, (d) => d.n.push(seq + 1));
      const key = ["automerge", "doc", id, "inc", String(seq).padStart(12, "0")];
      ops.push({ type: "put", key, value: A.saveSince(doc, before) });
    }
    await store.write(ops);
    const docs = nodeOn(store);
    const entry = await loaded(docs, id);
    expect(entry.doc?.getHeads()).toEqual(A.getHeads(doc));
    expect(entry.chunks).toBe(3);
    await edit(docs, entry, 4, "cc");
    await docs.compact(entry);
    const keys = await keysOf(store, id);
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(/^snapshot\/[\w-]{43}$/);
    expect(await valuesOf(docs, id)).toEqual([0, 1, 2, 3, 4]);
  });

  it("takes a piece as included only once nothing it holds waits for another", async () => {
    const store = createMapStore();
    const id = generateDocumentId();
    const writer = nodeOn(store);
    const origin = await loaded(writer, id);
    await edit(writer, origin, 0, "a1");
    const reader = nodeOn(store);
    const entry = await loaded(reader, id);
    // Two chunks the reader hears of in the wrong order, the first of them lost meanwhile.
    await edit(writer, origin, 1, "a1");
    await edit(writer, origin, 2, "a1");
    const [, second] = [...origin.storedKeys].slice(-2);
    const pieces = await writer.readPieces(id, new Set());
    const late = pieces.find((piece) => piece.name === second);
    expect(late).toBeDefined();
    const errors: string[] = [];
    const observer = { error: (_: unknown, context: string) => errors.push(context) };
    // Without the store's help (its pieces hidden), the chunk waits and is not recorded...
    const hidden = Object.assign(Object.create(reader), { readPieces: async () => [] });
    await catchUp(
      entry,
      [{ type: "stored", name: second as string, data: late?.value as Uint8Array }],
      hidden,
      observer,
    );
    expect(entry.storedKeys.has(second as string)).toBe(false);
    expect(errors).toHaveLength(1);
    // ...and a refresh reads what it waits for: then both are included, and durable.
    await catchUp(entry, [{ type: "refresh" }], reader, observer);
    expect([...entry.storedKeys].sort()).toEqual([...origin.storedKeys].sort());
    expect(entry.savedHeads).toEqual(origin.savedHeads);
    expect(await reader.saveChanges(entry)).toBe(false); // nothing is written again
  });
});

function permutations(items: readonly number[]): number[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, index) =>
    permutations([...items.slice(0, index), ...items.slice(index + 1)]).map((rest) => [
      item,
      ...rest,
    ]),
  );
}
