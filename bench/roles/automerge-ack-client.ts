// An automerge-sync client for the many-documents workloads: a real `Repo` (no storage) with
// `WebSocketClientAdapter`, in its own process.
// `push <url> N C`: on "go" creates N documents × C changes offline and says "created"; on
// "online" goes online and reports when the server has acknowledged every document's heads, as
// the client itself sees it (`DocHandle.getSyncInfo(server storage id)`, which automerge-repo
// updates from the server's sync messages), with the wall-clock time it saw the last one.
// `find <url>`: a fresh Repo that finds the documents the parent names, all at once, and reports
// how long until every one was found or rejected, with the counts.
// The parent may run several of these at once, each with its share of the documents: one
// process's own work per document grows with the documents it holds (2,000 were made in 2 s,
// 4,000 in 20 s, 10,000 in 128 s, in one Repo or spread over five), so a single process would
// measure itself, not the server.

import { type DocHandle, type DocumentId, Repo, type StorageId } from "@automerge/automerge-repo";
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket";
import { roleChannel } from "../lib/child.js";

interface Items {
  items: number[];
}

const [mode, url, count, changes] = process.argv.slice(2);
const parent = roleChannel();

if (mode === "push") {
  parent.on("go", () => void push(Number(count), Number(changes ?? 1), url as string));
  parent.send({ type: "ready" });
} else {
  const repo = new Repo({ network: [new WebSocketClientAdapter(url as string)] });
  await repo.networkSubsystem.whenReady();
  // Peered with the server before the clock starts: a find made before the peer handshake has
  // nobody to ask and is rejected at once (with several clients connecting at the same moment
  // that happened to thousands of finds at 10,000 documents).
  await serverStorageId(repo);
  let disconnects = 0;
  repo.networkSubsystem.on("peer-disconnected", () => disconnects++);
  parent.on("find", (message) => void find(repo, message.ids as DocumentId[], () => disconnects));
  parent.send({ type: "ready" });
}

async function push(n: number, changesEach: number, serverUrl: string): Promise<void> {
  const repo = new Repo({ network: [] });
  const handles: DocHandle<Items>[] = [];
  for (let i = 0; i < n; i++) {
    const handle = repo.create<Items>({ items: [] });
    for (let c = 0; c < changesEach; c++) handle.change((doc) => void doc.items.push(c));
    handles.push(handle);
  }
  // The heads as automerge-repo encodes them in sync info (base58 URL heads, not hex).
  const heads = handles.map((h) => h.heads().join(","));
  // Every client process goes online together, when the parent says so.
  const online = new Promise<void>((resolve) => parent.on("online", () => resolve()));
  parent.send({ type: "created" });
  await online;
  const onlineAt = Date.now();
  repo.networkSubsystem.addNetworkAdapter(new WebSocketClientAdapter(serverUrl));
  const storageId = await serverStorageId(repo);
  // Told by each handle as the server's heads for it change (automerge-repo's own event): no
  // polling, which over 10,000 handles cost the client more CPU than the sync itself.
  const pending = new Set(handles.keys());
  const progress: { at: number; acknowledged: number }[] = [];
  await new Promise<void>((resolve) => {
    const check = (i: number) => {
      const info = handles[i]?.getSyncInfo(storageId);
      if (!pending.has(i) || !info || info.lastHeads.join(",") !== heads[i]) return;
      pending.delete(i);
      if (pending.size === 0) resolve();
    };
    handles.forEach((handle, i) => {
      handle.on("remote-heads", (payload) => {
        if (payload.storageId === storageId) check(i);
      });
      check(i); // acknowledged before the listener was added
    });
    const sampler = setInterval(() => {
      progress.push({ at: Date.now() - onlineAt, acknowledged: n - pending.size });
      if (process.env.BENCH_ACK_DEBUG) {
        const sample = [...pending].slice(0, 3).map((i) => ({
          id: handles[i]?.documentId,
          info: handles[i]?.getSyncInfo(storageId),
          heads: heads[i],
        }));
        process.stderr.write(`ack: ${n - pending.size}/${n} ${JSON.stringify(sample)}\n`);
      }
      if (pending.size === 0) clearInterval(sampler);
    }, 1000);
    if (pending.size === 0) clearInterval(sampler);
  });
  const ackAt = Date.now();
  // Progress once a second, to see stalls: long flat stretches between bursts.
  progress.push({ at: ackAt - onlineAt, acknowledged: n });
  parent.send({
    type: "acknowledged",
    seconds: (ackAt - onlineAt) / 1000,
    at: ackAt,
    ids: handles.map((h) => h.documentId),
    progress,
  });
}

/** The storage id the server announced when it peered. */
async function serverStorageId(repo: Repo): Promise<StorageId> {
  for (;;) {
    for (const metadata of Object.values(repo.peerMetadataByPeerId)) {
      if (metadata?.storageId) return metadata.storageId;
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function find(repo: Repo, ids: readonly DocumentId[], disconnects: () => number) {
  const started = Date.now();
  let found = 0;
  let failed = 0;
  await Promise.all(
    ids.map(async (id) => {
      try {
        await repo.find<Items>(id);
        found++;
      } catch {
        failed++;
      }
    }),
  );
  parent.send({
    type: "found",
    seconds: (Date.now() - started) / 1000,
    at: Date.now(),
    found,
    failed,
    disconnects: disconnects(),
  });
}
