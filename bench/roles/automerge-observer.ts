// The durability observer of automerge-sync, in its own process: polls what a server has on
// disk (`nodefs` or `lmdb` reader) and reports when every document the parent names loads from
// there with exactly the heads its client made — the same test for both servers. Each stored
// chunk is applied once (again only if its size changed), so observing costs about one load
// of each document, whatever the server's write pattern.

import {
  change,
  type Doc,
  from,
  getHeads,
  init,
  load,
  loadIncremental,
  save,
} from "@automerge/automerge";
import { type DiskReader, lmdbReader, nodeFsReader } from "../lib/automerge-disk.js";
import { roleChannel } from "../lib/child.js";

const [kind, dir] = process.argv.slice(2);
const pollMs = 100;
const parent = roleChannel();
const reader: DiskReader =
  kind === "lmdb" ? lmdbReader(dir as string) : nodeFsReader(dir as string);

/** What the observer has loaded of one document so far. */
interface Progress {
  doc: Doc<unknown>;
  /** `name:size` of each chunk applied. */
  readonly applied: Set<string>;
}

parent.on("watch", (message) => {
  const docs = message.docs as { id: string; heads: string[] }[];
  const pending = new Map(docs.map((d) => [d.id, [...d.heads].sort().join(",")]));
  const progress = new Map<string, Progress>();
  let chunksLoaded = 0;
  let polls = 0;
  let readMs = 0;
  let loadMs = 0;
  // When a quarter, half, three quarters of the documents were first seen durable (ms after the
  // watch began): shows whether they arrive steadily or all at the end.
  const watchedAt = Date.now();
  const quarters: number[] = [];
  parent.on("status?", () => parent.send({ type: "status", pending: pending.size, chunksLoaded }));
  const poll = () => {
    polls++;
    const t0 = performance.now();
    const stored = reader.read(pending.keys());
    const t1 = performance.now();
    readMs += t1 - t0;
    for (const [id, chunks] of stored) {
      const p = progress.get(id) ?? { doc: init(), applied: new Set<string>() };
      progress.set(id, p);
      const fresh: Uint8Array[] = [];
      for (const chunk of chunks) {
        const tag = `${chunk.name}:${chunk.size}`;
        if (chunk.size === 0 || p.applied.has(tag)) continue;
        const bytes = chunk.read();
        if (bytes === undefined || bytes.length !== chunk.size) continue; // moved on: next poll
        p.applied.add(tag);
        fresh.push(bytes);
      }
      const changed = fresh.length > 0;
      if (changed) {
        p.doc = apply(p.doc, fresh);
        chunksLoaded += fresh.length;
      }
      if (changed && getHeads(p.doc).sort().join(",") === pending.get(id)) {
        pending.delete(id);
        progress.delete(id);
      }
    }
    loadMs += performance.now() - t1;
    const done = docs.length - pending.size;
    while (quarters.length < 3 && done >= (docs.length * (quarters.length + 1)) / 4) {
      quarters.push(Date.now() - watchedAt);
    }
    const cost = {
      polls,
      chunksLoaded,
      readMs: Math.round(readMs),
      loadMs: Math.round(loadMs),
      quartersMs: quarters,
    };
    if (pending.size === 0) parent.send({ type: "durable", at: Date.now(), ...cost });
    else setTimeout(poll, pollMs);
  };
  poll();
});
warmUp();
parent.send({ type: "ready" });

/** Loads a sample document a few hundred times, so wasm tier-up happens before the watch. */
function warmUp(): void {
  let doc = from<{ items: number[] }>({ items: [] });
  for (let c = 0; c < 10; c++) doc = change(doc, (d) => void d.items.push(c));
  const bytes = save(doc);
  for (let i = 0; i < 300; i++) apply(init(), [bytes]);
}

/**
 * The document with `chunks` applied: one `load` of them all when it is still empty (the fast
 * path), else — or when something in them is not a complete Automerge chunk, such as an index
 * entry — `loadIncremental`, which skips what it cannot parse.
 */
function apply(doc: Doc<unknown>, chunks: Uint8Array[]): Doc<unknown> {
  if (getHeads(doc).length === 0) {
    try {
      return load(concat(chunks));
    } catch {
      // fall through
    }
  }
  let next = doc;
  for (const chunk of chunks) {
    try {
      next = loadIncremental(next, chunk);
    } catch {
      // not an Automerge chunk
    }
  }
  return next;
}

function concat(chunks: Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
