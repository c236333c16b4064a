// An automerge-sync client: a real `Repo` (no storage) with `WebSocketClientAdapter`, in its
// own process. `push N`: creates N documents × 10 changes (`items.push`) offline, reports each
// document's heads, and goes online. `find`: a fresh Repo that finds the
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
let disconnects = 0;

if (mode === "push") {
  parent.on("go", () => void push(Number(count), url as string));
  parent.send({ type: "ready" });
} else {
  const repo = new Repo({ network: [new WebSocketClientAdapter(url as string)] });
  await repo.networkSubsystem.whenReady();
  // Counted to explain rejected finds: a server that cuts the client leaves them unavailable.
  repo.networkSubsystem.on("peer-disconnected", () => disconnects++);
  parent.on("find", (message) => void find(repo, message.ids as DocumentId[]));
  parent.send({ type: "ready" });
}

/**
 * Creates the documents offline, then connects: the creation time is the client's own (the
 * same whichever server), everything the server does happens after the last local change, and
 * no socket sits unanswered while the burst blocks the event loop (both servers cut a peer that
 * misses its keepalive pongs, which made a synchronous burst on a connected Repo measure their
 * keepalive and the client's 5 s reconnect rather than their sync).
 */
async function push(n: number, serverUrl: string): Promise<void> {
  const repo = new Repo({ network: [] });
  const started = Date.now();
  const handles: DocHandle<Items>[] = [];
  for (let i = 0; i < n; i++) {
    const handle = repo.create<Items>({ items: [] });
    for (let c = 0; c < changesPerDocument; c++) handle.change((doc) => void doc.items.push(c));
    handles.push(handle);
  }
  const createdAt = Date.now();
  const docs = handles.map((h) => ({ id: h.documentId, heads: getHeads(h.doc()) }));
  const lastChangeAt = Date.now(); // the clock for (a) starts as the client goes online
  repo.networkSubsystem.addNetworkAdapter(new WebSocketClientAdapter(serverUrl));
  parent.send({ type: "pushed", startedAt: started, createdAt, lastChangeAt, docs });
}

async function find(repo: Repo, ids: readonly DocumentId[]): Promise<void> {
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
  const doneAt = Date.now();
  parent.send({ type: "found", startedAt: started, doneAt, wrong, failed, disconnects });
}
