import * as A from "@automerge/automerge";
import { afterEach, describe, expect, it } from "vitest";
import type { Store } from "../storage/store.js";
import { generateDocumentId } from "../util/ids.js";
import { DocumentHub } from "./document-hub.js";
import type { AutomergeSettings, DocumentHubOptions } from "./document-hub-options.js";
import { hubSettings } from "./testing/hub-settings.js";
import { createMapStore } from "./testing/map-store.js";
import { type Items, sleep, storedHeads, TestPeer } from "./testing/test-peer.js";
import { ownCopy } from "./worker-documents.js";

// The hub with every document in a worker thread (threshold 0): the same sync, durability,
// eviction and size rules as on the main thread, plus what only workers have (crashes, idle
// termination). Worker start-up takes ~100 ms, hence the longer settle periods.

let hubs: DocumentHub[] = [];
type HubOptions = Partial<Omit<DocumentHubOptions, "settings">> & {
  store: Store;
  settings?: Partial<AutomergeSettings>;
};

const createHub = (options: HubOptions) => {
  const settings = hubSettings({ automergeWorkerThreshold: 0, ...options.settings });
  const hub = new DocumentHub({ serverPeerId: "server", ...options, settings });
  hubs.push(hub);
  return hub;
};

afterEach(async () => {
  await Promise.all(hubs.map((hub) => hub.close()));
  hubs = [];
});

const crashingWorker = new URL("./testing/crashing-worker.js", import.meta.url);
const quiet = 30;

describe("DocumentHub with documents in worker threads", () => {
  it("syncs, forwards and stores a document held by a worker", async () => {
    const store = createMapStore();
    const hub = createHub({ store });
    const id = generateDocumentId();
    const alice = new TestPeer(hub, "alice", id, A.from<Items>({ items: [1] }));
    await alice.settle(quiet);
    expect(hub.workerThreads).toBe(1);
    const bob = new TestPeer(hub, "bob", id);
    bob.push("request");
    await bob.settle(quiet);
    expect(bob.doc.items).toEqual([1]);
    alice.doc = A.change(alice.doc, (d) => d.items.push(2));
    await alice.settle(quiet);
    await bob.settle(quiet);
    expect(bob.doc.items).toEqual([1, 2]);
    expect(await storedHeads(store, id)).toEqual(A.getHeads(alice.doc));
  });

  it("answers doc-unavailable and refuses oversized syncs as on the main thread", async () => {
    const hub = createHub({
      store: createMapStore(),
      settings: { automergeMaxDocumentBytes: 2000 },
    });
    const unknown = new TestPeer(hub, "carol", generateDocumentId());
    unknown.push("request");
    await unknown.settle(quiet);
    expect(unknown.received.map((m) => m.type)).toEqual(["doc-unavailable"]);
    const big = A.from<Items>({ items: Array.from({ length: 5000 }, (_, i) => i) });
    const alice = new TestPeer(hub, "alice", generateDocumentId(), big);
    await alice.settle(quiet);
    expect(alice.failure?.closeCode).toBe(4413);
  });

  it("a request in the same round as the document's first content gets the content", async () => {
    const hub = createHub({ store: createMapStore() });
    const id = generateDocumentId();
    const bob = new TestPeer(hub, "bob", id);
    const alice = new TestPeer(hub, "alice", id, A.from<Items>({ items: [1] }));
    // Alice's first message carries only her heads; the server's answer (its empty heads) lets
    // her next one carry her changes. The document is now held, empty, by a worker.
    alice.push("sync");
    for (let i = 0; i < 100 && alice.received.length === 0; i++) await sleep(10);
    expect(alice.received.map((m) => m.type)).toEqual(["sync"]);
    // Bob's request and Alice's changes land in the document's inbox together: one round,
    // Bob's request first.
    bob.push("request");
    expect(alice.push("sync")).toBe(true);
    await alice.settle(quiet);
    await bob.settle(quiet);
    expect(bob.received.map((m) => m.type)).not.toContain("doc-unavailable");
    expect(bob.doc.items).toEqual([1]);
  });

  it("evicts from the worker keeping sync states, then retires the idle worker", async () => {
    const store = createMapStore();
    const hub = createHub({ store, settings: { automergeIdleEvictMs: 100 }, workerIdleMs: 100 });
    const id = generateDocumentId();
    const alice = new TestPeer(hub, "alice", id, A.from<Items>({ items: [] }));
    for (let i = 0; i < 3; i++) {
      alice.doc = A.change(alice.doc, (d) => d.items.push(i));
      await alice.settle(quiet);
    }
    await sleep(600);
    expect(hub.stats.loaded).toBe(0);
    expect(hub.workerThreads).toBe(0);
    alice.doc = A.change(alice.doc, (d) => d.items.push(3));
    await alice.settle(quiet);
    expect(await storedHeads(store, id)).toEqual(A.getHeads(alice.doc));
    expect(alice.failure).toBeUndefined();
  });

  it("a worker crash closes its documents' peers with 1011 and loses nothing acknowledged", async () => {
    const store = createMapStore();
    const errors: string[] = [];
    const hub = createHub({
      store,
      workerScript: crashingWorker,
      observer: { error: (_error, context) => errors.push(context) },
    });
    const id = generateDocumentId();
    const alice = new TestPeer(hub, "alice", id, A.from<Items>({ items: [1, 2, 3] }));
    await alice.settle(quiet);
    const acknowledged = A.getHeads(alice.doc);
    const crasher = new TestPeer(hub, "crasher", id, A.clone(alice.doc));
    crasher.doc = A.change(crasher.doc, (d) => d.items.push(4));
    crasher.push();
    await sleep(300);
    expect(alice.failure?.closeCode).toBe(1011);
    expect(crasher.failure?.closeCode).toBe(1011);
    expect(errors).toContain("running an automerge worker");
    expect(await storedHeads(store, id)).toEqual(acknowledged);
    // The document is reloaded from the store in a new worker.
    hub.detach(alice);
    hub.detach(crasher);
    const dave = new TestPeer(hub, "dave", id);
    dave.push("request");
    await dave.settle(quiet);
    expect(dave.doc.items).toEqual([1, 2, 3]);
  });

  it("close() flushes accepted changes, then terminates the workers", async () => {
    const store = createMapStore();
    const hub = createHub({ store });
    const id = generateDocumentId();
    const alice = new TestPeer(hub, "alice", id, A.from<Items>({ items: [9] }));
    alice.push();
    while (alice.received.length === 0) await sleep(10);
    expect(alice.push()).toBe(true); // the changes
    await hub.close();
    expect(hub.workerThreads).toBe(0);
    expect(await storedHeads(store, id)).toEqual(A.getHeads(alice.doc));
  });
});

describe("ownCopy", () => {
  it("copies a Buffer cut from Node's shared pool into memory of its own, safe to move", () => {
    const pooled = Buffer.from("a small sync message");
    const neighbour = Buffer.from("another socket's message");
    expect(pooled.buffer.byteLength).toBeGreaterThan(pooled.byteLength); // from the pool
    const copy = ownCopy(pooled);
    expect(copy.buffer).not.toBe(pooled.buffer);
    expect(copy.byteLength).toBe(copy.buffer.byteLength);
    // Moving the copy's memory away leaves the pool, and every Buffer cut from it, intact.
    structuredClone(copy, { transfer: [copy.buffer as ArrayBuffer] });
    expect(pooled.toString()).toBe("a small sync message");
    expect(neighbour.toString()).toBe("another socket's message");
  });
});
