// An automerge-sync client: a real `Repo` (no storage) with `WebSocketClientAdapter`, in its
// own process. `push N`: creates N documents × 10 changes (`items.push`) and reports each
// document's heads and the time of its last local change. `find`: a fresh Repo that finds the
// documents the parent names and checks their content.

import { getHeads } from "@automerge/automerge";
import { type DocHandle, type DocumentId, Repo } from "@automerge/automerge-repo";
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket";
import { roleChannel } from "../lib/child.js";

/** The benchmark's document: ten numbers pushed one change at a time. */
interface Items {
  items: number[];
}

/** Changes per document. */
export const changesPerDocument = 10;

const [mode, url, count] = process.argv.slice(2);
const parent = roleChannel();
const repo = new Repo({ network: [new WebSocketClientAdapter(url as string)] });
await repo.networkSubsystem.whenReady();

if (mode === "push") {
  parent.on("go", () => void push(Number(count)));
  parent.send({ type: "ready" });
} else {
  parent.on("find", (message) => void find(message.ids as DocumentId[]));
  parent.send({ type: "ready" });
}

/**
 * Creates the documents in one synchronous burst, so the creation time is the client's own
 * (the same whichever server) and everything the server does happens after the last change.
 */
async function push(n: number): Promise<void> {
  const started = Date.now();
  const handles: DocHandle<Items>[] = [];
  for (let i = 0; i < n; i++) {
    const handle = repo.create<Items>({ items: [] });
    for (let c = 0; c < changesPerDocument; c++) handle.change((doc) => void doc.items.push(c));
    handles.push(handle);
  }
  const lastChangeAt = Date.now();
  const docs = handles.map((h) => ({ id: h.documentId, heads: getHeads(h.doc()) }));
  parent.send({ type: "pushed", startedAt: started, lastChangeAt, docs });
}

async function find(ids: readonly DocumentId[]): Promise<void> {
  const started = Date.now();
  let wrong = 0;
  let failed = 0;
  await Promise.all(
    ids.map(async (id) => {
      try {
        const handle = await repo.find<Items>(id);
        const items = handle.doc().items;
        if (items.length !== changesPerDocument || items.some((v, i) => v !== i)) wrong++;
      } catch {
        failed++;
      }
    }),
  );
  parent.send({ type: "found", startedAt: started, doneAt: Date.now(), wrong, failed });
}
