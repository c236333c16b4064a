import * as A from "@automerge/automerge";
import { afterEach, describe, expect, it } from "vitest";
import { createError } from "../protocol/errors.js";
import type { Store, StoreKey, StoreOp } from "../storage/store.js";
import { createDeferred } from "../util/deferred.js";
import { generateDocumentId } from "../util/ids.js";
import { DocumentHub } from "./document-hub.js";
import type { AutomergeSettings, DocumentHubOptions } from "./document-hub-options.js";
import { hubSettings } from "./testing/hub-settings.js";
import { createMapStore } from "./testing/map-store.js";
import { type Items, sleep, storedHeads, TestPeer } from "./testing/test-peer.js";

/** A store whose writes wait for `release()`. */
function gatedStore(): Store & { release(): void; held: number } {
  const store = createMapStore();
  let gate = createDeferred<void>();
  const gated = {
    held: 0,
    release() {
      gate.resolve();
      gate = createDeferred<void>();
    },
    get: (key: StoreKey) => store.get(key),
    async write(ops: readonly StoreOp[]) {
      gated.held += 1;
      await gate.promise;
      await store.write(ops);
    },
    range: (prefix: StoreKey, options?: object) => store.range(prefix, options),
    deletePrefix: (prefix: StoreKey) => store.deletePrefix(prefix),
    close: () => store.close(),
    status: () => store.status(),
  };
  return gated;
}

let hubs: DocumentHub[] = [];
type HubOptions = Partial<Omit<DocumentHubOptions, "settings">> & {
  store: Store;
  settings?: Partial<AutomergeSettings>;
};

const createHub = (options: HubOptions) => {
  const hub = new DocumentHub({
    serverPeerId: "server",
    ...options,
    settings: hubSettings(options.settings),
  });
  hubs.push(hub);
  return hub;
};

afterEach(async () => {
  await Promise.all(hubs.map((hub) => hub.close()));
  hubs = [];
});

describe("DocumentHub", () => {
  it("replies to a change only once it is durable", async () => {
    const store = gatedStore();
    const hub = createHub({ store });
    const id = generateDocumentId();
    const alice = new TestPeer(hub, "alice", id, A.from<Items>({ items: [1] }));
    alice.push();
    await sleep(30);
    alice.push();
    await sleep(30);
    expect(store.held).toBeGreaterThan(0);
    const repliesBefore = alice.received.length;
    await sleep(30);
    expect(alice.received.length).toBe(repliesBefore); // nothing acknowledged while held
    store.release();
    await sleep(30);
    expect(alice.received.length).toBeGreaterThan(repliesBefore);
    expect(await storedHeads(store, id)).toEqual(A.getHeads(alice.doc));
  });

  it("close() waits until every accepted change is durable", async () => {
    const store = gatedStore();
    const hub = new DocumentHub({ store, serverPeerId: "server", settings: hubSettings() });
    const id = generateDocumentId();
    const alice = new TestPeer(hub, "alice", id, A.from<Items>({ items: [7] }));
    alice.push();
    await sleep(30);
    alice.push();
    await sleep(30);
    expect(store.held).toBeGreaterThan(0);
    let closed = false;
    const closing = hub.close().then(() => {
      closed = true;
    });
    await sleep(30);
    expect(closed).toBe(false);
    store.release();
    await closing;
    expect(await storedHeads(store, id)).toEqual(A.getHeads(alice.doc));
  });

  it("forwards one peer's changes to every other peer of the document", async () => {
    const hub = createHub({ store: createMapStore() });
    const id = generateDocumentId();
    const alice = new TestPeer(hub, "alice", id, A.from<Items>({ items: [] }));
    await alice.settle();
    const bob = new TestPeer(hub, "bob", id);
    bob.push("request");
    await bob.settle();
    expect(bob.doc.items).toEqual([]);
    alice.doc = A.change(alice.doc, (d) => d.items.push(42));
    await alice.settle();
    await bob.settle();
    expect(bob.doc.items).toEqual([42]);
  });

  it("answers a second fresh peer from the first one's answer while the heads stay", async () => {
    let reused = 0;
    const hub = createHub({
      store: createMapStore(),
      observer: { freshAnswerReused: () => reused++ },
    });
    const id = generateDocumentId();
    const alice = new TestPeer(hub, "alice", id, A.from<Items>({ items: [1, 2] }));
    await alice.settle();
    const readers = ["bob", "carol", "dave"].map((name) => new TestPeer(hub, name, id));
    for (const reader of readers) {
      reader.push("request");
      await reader.settle();
      expect(reader.doc.items).toEqual([1, 2]);
    }
    expect(reused).toBe(2);
    const firstReplies = (peer: TestPeer) =>
      peer.received.filter((m) => m.type === "sync").map((m) => (m as { data: Uint8Array }).data);
    expect(firstReplies(readers[2] as TestPeer)[0]).toEqual(
      firstReplies(readers[0] as TestPeer)[0],
    );
    // A change invalidates the answer: the next fresh peer gets the new heads.
    alice.doc = A.change(alice.doc, (d) => d.items.push(3));
    await alice.settle();
    const erin = new TestPeer(hub, "erin", id);
    erin.push("request");
    await erin.settle();
    expect(erin.doc.items).toEqual([1, 2, 3]);
    expect(readers.every((reader) => reader.doc.items.length === 3)).toBe(true);
  });

  it("keeps syncing peers whose document was evicted (budget 0)", async () => {
    const store = createMapStore();
    const hub = createHub({ store, settings: { automergeMemoryBudget: 0 } });
    const id = generateDocumentId();
    const alice = new TestPeer(hub, "alice", id, A.from<Items>({ items: [] }));
    await alice.settle();
    expect(hub.stats.loaded).toBe(0);
    const bob = new TestPeer(hub, "bob", id);
    bob.push("request");
    await bob.settle();
    for (let i = 0; i < 3; i++) {
      alice.doc = A.change(alice.doc, (d) => d.items.push(i));
      await alice.settle();
      await bob.settle();
    }
    expect(bob.doc.items).toEqual([0, 1, 2]);
    expect(hub.stats.loaded).toBe(0);
    expect(await storedHeads(store, id)).toEqual(A.getHeads(alice.doc));
  });

  it("compacts in the background after enough chunks", async () => {
    const store = createMapStore();
    const hub = createHub({ store, compactAfterChunks: 3 });
    const id = generateDocumentId();
    const alice = new TestPeer(hub, "alice", id, A.from<Items>({ items: [] }));
    for (let i = 0; i < 5; i++) {
      alice.doc = A.change(alice.doc, (d) => d.items.push(i));
      await alice.settle();
    }
    const keys: string[] = [];
    for await (const { key } of store.range(["automerge", "doc", id])) keys.push(key[3] as string);
    expect(keys).toContain("snapshot");
    expect(keys.filter((k) => k === "inc").length).toBeLessThan(3);
    expect(await storedHeads(store, id)).toEqual(A.getHeads(alice.doc));
  });

  it("keeps a document whose compaction failed (full disk) and answers what came meanwhile", async () => {
    // Compactions (the only writes that delete) wait for `refuse`, then fail like a full disk.
    const inner = createMapStore();
    const refuse = createDeferred<void>();
    let compactions = 0;
    const store: Store = {
      ...inner,
      async write(ops) {
        if (!ops.some((op) => op.type === "delete")) return inner.write(ops);
        compactions += 1;
        await refuse.promise;
        throw createError("ERR_STORE_WRITE", "store: disk full (test)");
      },
    };
    let loads = 0;
    const errors: string[] = [];
    const hub = createHub({
      store,
      compactAfterChunks: 2,
      observer: { documentLoaded: () => loads++, error: (_, context) => errors.push(context) },
    });
    const id = generateDocumentId();
    const alice = new TestPeer(hub, "alice", id, A.from<Items>({ items: [] }));
    for (let i = 0; i < 3 && compactions === 0; i++) {
      alice.doc = A.change(alice.doc, (d) => d.items.push(i));
      await alice.settle();
    }
    expect(compactions).toBe(1);
    // A change arrives while the compaction is in flight, and is sent once (as a Repo does).
    alice.doc = A.change(alice.doc, (d) => d.items.push(99));
    const repliesBefore = alice.received.length;
    alice.push();
    refuse.resolve();
    await sleep(50);
    expect(alice.failure).toBeUndefined();
    expect(await storedHeads(store, id)).toEqual(A.getHeads(alice.doc));
    expect(alice.received.length).toBeGreaterThan(repliesBefore);
    expect(loads).toBe(1); // kept in memory: its chunks are durable, nothing to reload
    expect(new Set(errors)).toEqual(new Set([`compacting document ${id}`]));
  });

  it("refuses a sync that would grow a document past the size limit", async () => {
    const hub = createHub({
      store: createMapStore(),
      settings: { automergeMaxDocumentBytes: 2000 },
    });
    const id = generateDocumentId();
    const big = A.from<Items>({ items: Array.from({ length: 5000 }, (_, i) => i) });
    const alice = new TestPeer(hub, "alice", id, big);
    await alice.settle();
    expect(alice.failure?.code).toBe("ERR_DOCUMENT_TOO_LARGE");
    expect(alice.failure?.closeCode).toBe(4413);
  });

  it("relays ephemeral messages to the other peers once per (sender, session, count)", async () => {
    const { hub, alice, bob, message } = await ephemeralPeers();
    hub.ephemeral(alice, message, 100);
    hub.ephemeral(alice, message, 100);
    hub.ephemeral(alice, { ...message, count: 2 }, 100);
    const relayed = bob.received.filter((m) => m.type === "ephemeral");
    expect(relayed).toEqual([
      { ...message, targetId: "bob" },
      { ...message, count: 2, targetId: "bob" },
    ]);
    expect(alice.received.some((m) => m.type === "ephemeral")).toBe(false);
  });

  it("drops ephemeral messages that are too large, and copies for a peer over budget", async () => {
    const drops: string[] = [];
    const { hub, alice, bob, carol, message } = await ephemeralPeers({
      ephemeralDropped: (reason) => drops.push(reason),
    });
    hub.ephemeral(alice, message, 64 * 1024 + 1); // above hubSettings()' 64 KiB
    bob.admitting = false; // bob's output is over budget: his copy is dropped, carol's is sent
    hub.ephemeral(alice, { ...message, count: 2 }, 100);
    hub.ephemeral(alice, { ...message, count: 3, sessionId: "s".repeat(257) }, 400);
    expect(bob.received.filter((m) => m.type === "ephemeral")).toEqual([]);
    const atCarol = carol.received.filter((m) => m.type === "ephemeral");
    expect(atCarol).toEqual([{ ...message, count: 2, targetId: "carol" }]);
    expect(drops).toEqual(["too-large", "slow-peer", "session-id"]);
  });

  it("forgets a sender's ephemeral sessions when it leaves", async () => {
    const sizes: number[] = [];
    const { hub, alice, bob, message } = await ephemeralPeers({
      ephemeralSessions: (entries) => sizes.push(entries),
    });
    hub.ephemeral(alice, message, 100);
    hub.ephemeral(bob, { ...message, senderId: "bob" }, 100);
    expect(sizes.at(-1)).toBe(2);
    hub.detach(alice);
    expect(sizes.at(-1)).toBe(1);
  });
});

/** A hub with a document and three peers of it (alice wrote it), and an ephemeral of alice's. */
async function ephemeralPeers(observer: DocumentHubOptions["observer"] = {}) {
  const hub = createHub({ store: createMapStore(), observer });
  const id = generateDocumentId();
  const alice = new TestPeer(hub, "alice", id, A.from<Items>({ items: [] }));
  await alice.settle();
  const bob = new TestPeer(hub, "bob", id);
  bob.push("request");
  await bob.settle();
  const carol = new TestPeer(hub, "carol", id);
  carol.push("request");
  await carol.settle();
  const message = {
    type: "ephemeral" as const,
    senderId: "alice",
    targetId: "server",
    documentId: id,
    count: 1,
    sessionId: "s1",
    data: new Uint8Array([1]),
  };
  return { hub, alice, bob, carol, message };
}
