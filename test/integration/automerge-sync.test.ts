// Interop with real automerge-repo 2.5 clients against our server: create and find, live
// changes both ways, ephemeral relay, unavailable documents, many documents at once.

import * as A from "@automerge/automerge";
import { type AutomergeUrl, type DocHandle, Repo } from "@automerge/automerge-repo";
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createRepoClient, storeHasHeads, waitUntil, wsUrl } from "../helpers/automerge-clients.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

interface Items {
  items: number[];
}

let server: TestServer;
let repos: Repo[];

const client = (name: string) => {
  const repo = createRepoClient(wsUrl(server.server.url), name);
  repos.push(repo);
  return repo;
};

/** Creates a document with `count` changes and waits until the server has it durably. */
async function createDurable(repo: Repo, count: number): Promise<DocHandle<Items>> {
  const handle = repo.create<Items>({ items: [] });
  for (let i = 0; i < count; i++) handle.change((doc) => doc.items.push(i));
  const heads = A.getHeads(handle.doc());
  await waitUntil(
    () => storeHasHeads(server.server.store, handle.documentId, heads),
    10_000,
    `document ${handle.documentId} on the server`,
  );
  return handle;
}

beforeEach(async () => {
  repos = [];
  server = await startTestServer();
});

afterEach(async () => {
  await Promise.all(repos.map((repo) => repo.shutdown().catch(() => {})));
  await server.stop();
});

describe("automerge sync with real Repo clients", () => {
  it("a document created by one client is found by another", async () => {
    const alice = client("alice");
    const handle = await createDurable(alice, 3);
    const bob = client("bob");
    const found = await bob.find<Items>(handle.url);
    expect(found.doc().items).toEqual([0, 1, 2]);
  });

  it("live changes flow both ways", async () => {
    const alice = client("alice");
    const handle = await createDurable(alice, 1);
    const bob = client("bob");
    const bobs = await bob.find<Items>(handle.url);
    handle.change((doc) => doc.items.push(100));
    await waitUntil(() => bobs.doc().items.includes(100), 10_000, "alice's change at bob");
    bobs.change((doc) => doc.items.push(200));
    await waitUntil(() => handle.doc().items.includes(200), 10_000, "bob's change at alice");
  });

  it("answers later fresh clients from the first fresh client's answer", async () => {
    const alice = client("alice");
    const handle = await createDurable(alice, 2);
    for (const name of ["bob", "carol", "dave"]) {
      const found = await client(name).find<Items>(handle.url);
      expect(found.doc().items).toEqual([0, 1]);
    }
    const metric = await server.server.metrics.registry
      .getSingleMetric("syncline_automerge_fresh_answers_reused_total")
      ?.get();
    expect(metric?.values[0]?.value).toBe(2);
  });

  it("relays ephemeral messages to the document's other peers", async () => {
    const alice = client("alice");
    const handle = await createDurable(alice, 1);
    const bob = client("bob");
    const bobs = await bob.find<Items>(handle.url);
    const received: unknown[] = [];
    bobs.on("ephemeral-message", ({ message }) => received.push(message));
    await waitUntil(
      () => {
        handle.broadcast({ cursor: 7 });
        return received.length > 0;
      },
      10_000,
      "an ephemeral message at bob",
    );
    expect(received[0]).toEqual({ cursor: 7 });
  });

  it("finding a document the server does not have rejects", async () => {
    const url = new Repo({ network: [] }).create<Items>({ items: [] }).url;
    const bob = client("bob");
    await expect(bob.find<Items>(url as AutomergeUrl)).rejects.toThrow(/unavailable/);
  });

  it(
    "tells a client that found a document unavailable once its author syncs it",
    tellsAwaitingPeer,
  );

  // The same with the document in a worker thread: the worker starts the waiting peer's sync
  // state in the round that brings the content.
  it("tells a waiting client when the document arrives in a worker thread", async () => {
    await server.stop();
    server = await startTestServer({ automergeWorkerThreshold: 0, automergeWorkerThreads: 1 });
    await tellsAwaitingPeer();
  });

  it("syncs many documents at once", syncsManyDocuments);

  // With automerge_worker_threshold 0 every document lives in a worker thread, so the server's
  // worker rounds carry many small messages — each a Buffer cut from Node's shared pool — side by
  // side. (Moving a pooled Buffer's memory to a worker once emptied the other messages cut from
  // the same pool, and those documents never synced.)
  it("syncs many documents at once with every document in a worker thread", async () => {
    await server.stop();
    server = await startTestServer({ automergeWorkerThreshold: 0, automergeWorkerThreads: 1 });
    await syncsManyDocuments();
  });
});

/** 100 documents created at once by one client are all durable, and another client finds them. */
async function syncsManyDocuments(): Promise<void> {
  const alice = client("alice");
  const handles = Array.from({ length: 100 }, (_, i) => {
    const handle = alice.create<Items>({ items: [] });
    handle.change((doc) => doc.items.push(i));
    return handle;
  });
  await waitUntil(
    async () =>
      (
        await Promise.all(
          handles.map((h) => storeHasHeads(server.server.store, h.documentId, A.getHeads(h.doc()))),
        )
      ).every(Boolean),
    20_000,
    "100 documents on the server",
  );
  const bob = client("bob");
  const found = await Promise.all(handles.map((h) => bob.find<Items>(h.url)));
  expect(found.map((h) => h.doc().items[0])).toEqual(handles.map((_, i) => i));
}

/** Bob is told a document is unavailable; once Alice syncs it, Bob's handle gets it unasked. */
async function tellsAwaitingPeer(): Promise<void> {
  // Alice writes offline; Bob asks the server first and is told the document is unavailable.
  const alice = new Repo({ network: [], sharePolicy: async () => true });
  repos.push(alice);
  const authored = alice.create<Items>({ items: [] });
  authored.change((doc) => doc.items.push(7));
  const bob = client("bob");
  await expect(bob.find<Items>(authored.url)).rejects.toThrow(/unavailable/);
  const bobs = bob.handles[authored.documentId] as DocHandle<Items>;
  // Alice comes online: once her document is durable on the server, Bob's handle gets it
  // without asking again.
  alice.networkSubsystem.addNetworkAdapter(new WebSocketClientAdapter(wsUrl(server.server.url)));
  await waitUntil(
    () => bobs.isReady() && bobs.doc()?.items?.[0] === 7,
    10_000,
    "Bob's handle holding Alice's document",
  );
}
