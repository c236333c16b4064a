// Two document hubs as two nodes: one in-memory store (the shared database) and a memory bus
// network, so outages and lost messages can be made exactly. Changes reach the other node's
// peers live, concurrent appends and compactions lose nothing, what the bus lost is read from
// the store when it resumes, ephemeral messages and deletes cross nodes, and documents in
// worker threads take part as the others do.

import { randomBytes } from "node:crypto";
import * as A from "@automerge/automerge";
import { afterEach, describe, expect, it } from "vitest";
import type { DocBackend } from "../../src/automerge/automerge-backend.js";
import { createEntry, loadInto } from "../../src/automerge/document-entry.js";
import { DocumentHub } from "../../src/automerge/document-hub.js";
import type { AutomergeSettings } from "../../src/automerge/document-hub-options.js";
import { maxPieceOnBus } from "../../src/automerge/document-nodes.js";
import { DocumentStore } from "../../src/automerge/document-store.js";
import { createGroupCommit } from "../../src/automerge/group-commit.js";
import { documentTopic, encodeNodeMessage } from "../../src/automerge/node-messages.js";
import { hubSettings } from "../../src/automerge/testing/hub-settings.js";
import { type Items, sleep, TestPeer } from "../../src/automerge/testing/test-peer.js";
import type { Bus } from "../../src/bus/bus.js";
import { createMemoryBusNetwork, type MemoryBusNetwork } from "../../src/bus/memory-bus.js";
import type { EphemeralMessage } from "../../src/protocol/automerge-messages.js";
import { createMemoryStore } from "../../src/storage/memory-store.js";
import type { Store } from "../../src/storage/store.js";
import { generateDocumentId } from "../../src/util/ids.js";
import { waitUntil } from "../helpers/automerge-clients.js";

const hubs: DocumentHub[] = [];
const buses: Bus[] = [];
afterEach(async () => {
  await Promise.all(hubs.splice(0).map((hub) => hub.close()));
  await Promise.all(buses.splice(0).map((bus) => bus.close()));
});

interface Nodes {
  readonly store: Store;
  readonly network: MemoryBusNetwork;
  readonly a: DocumentHub;
  readonly b: DocumentHub;
  readonly errors: string[];
}

async function twoNodes(
  settings: Partial<AutomergeSettings> = {},
  compactAfterChunks = 32,
  store: Store = createMemoryStore(),
): Promise<Nodes> {
  const network = createMemoryBusNetwork();
  const errors: string[] = [];
  const node = (name: string) => {
    const bus = network.connect();
    buses.push(bus);
    const hub = new DocumentHub({
      store,
      serverPeerId: `server-${name}`,
      settings: hubSettings({ automergeWorkerThreads: 0, ...settings }),
      compactAfterChunks,
      bus,
      observer: { error: (_error, context) => errors.push(context) },
    });
    hubs.push(hub);
    return hub;
  };
  const a = node("a");
  const b = node("b");
  await a.start();
  await b.start();
  return { store, network, a, b, errors };
}

/** Peers that, like a Repo, answer every message the server sends and start nothing. */
const answering = new Set<TestPeer>();

function answer(peer: TestPeer): TestPeer {
  answering.add(peer);
  const receive = peer.send.bind(peer);
  peer.send = (message) => {
    receive(message);
    if (message.type === "sync" && answering.has(peer)) queueMicrotask(() => peer.push());
  };
  return peer;
}

const storedItems = async (store: Store, id: string) => {
  const stored = await new DocumentStore(store, createGroupCommit(store)).load(id);
  if (!stored) return undefined;
  const items = A.load<Items>(stored.doc.save()).items;
  stored.doc.free();
  return [...items].sort((x, y) => x - y);
};

const keysOf = async (store: Store, id: string) => {
  const keys: string[] = [];
  for await (const { key } of store.range(["automerge", "doc", id]))
    keys.push(key.slice(3).join("/"));
  return keys;
};

/** Stores `items` as one change each, as a third node would: its pieces' names and bytes. */
async function thirdNodeWrites(store: Store, id: string, items: number[]) {
  const docs = new DocumentStore(store, createGroupCommit(store));
  const entry = createEntry(id);
  const stored = await docs.load(id);
  entry.advance({ type: "runner-started" });
  loadInto(entry, stored?.doc as DocBackend, stored);
  const wasm = entry.doc as DocBackend & { loadIncremental(data: Uint8Array): number };
  let doc = A.load<Items>(wasm.save());
  const pieces: [string, Uint8Array][] = [];
  for (const item of items) {
    const before = A.getHeads(doc);
    doc = A.change(doc, (d) => d.items.push(item));
    const chunk = A.saveSince(doc, before);
    wasm.loadIncremental(chunk);
    await docs.saveChanges(entry);
    pieces.push([[...entry.storedKeys].at(-1) as string, chunk]);
  }
  wasm.free();
  return pieces;
}

/** Alice on node A with a document of `items`, Bob on node B synced to it. */
async function sharedDocument(nodes: Nodes, items: number[] = [1]) {
  const id = generateDocumentId();
  const alice = new TestPeer(nodes.a, "alice", id, A.from<Items>({ items }));
  await alice.settle();
  // A worker's start can outlast a settle on a busy machine: the document must be durable.
  await waitUntil(
    async () => {
      alice.push();
      return (await storedItems(nodes.store, id))?.length === items.length;
    },
    5000,
    "alice's document stored",
  );
  const bob = answer(new TestPeer(nodes.b, "bob", id));
  bob.push("request");
  await waitUntil(() => bob.doc.items?.length === items.length, 5000, "bob's first sync");
  await sleep(50);
  return { id, alice, bob };
}

describe("document hubs on two nodes", () => {
  for (const where of ["this thread", "a worker thread"] as const) {
    it(`a change through node A reaches node B's peer live (document on ${where})`, async () => {
      const settings =
        where === "this thread" ? {} : { automergeWorkerThreads: 1, automergeWorkerThreshold: 0 };
      const nodes = await twoNodes(settings);
      const { alice, bob } = await sharedDocument(nodes);
      // On this thread, the change comes in the server's first message: Bob need not answer.
      // A worker tells Bob of the new heads, and sends the change once Bob asks for it.
      if (where === "this thread") answering.delete(bob);
      for (let i = 2; i <= 4; i++) {
        alice.doc = A.change(alice.doc, (d) => d.items.push(i));
        await alice.settle();
        await waitUntil(() => bob.doc.items.length === i, 5000, `item ${i} at bob`);
      }
      expect(bob.doc.items).toEqual([1, 2, 3, 4]);
      expect(bob.failure).toBeUndefined();
      expect(nodes.errors).toEqual([]);
    });
  }

  it("a change reaches a peer of an evicted document on the other node", async () => {
    const nodes = await twoNodes({ automergeMemoryBudget: 0 });
    const { alice, bob } = await sharedDocument(nodes);
    expect(nodes.b.stats.loaded).toBe(0);
    alice.doc = A.change(alice.doc, (d) => d.items.push(2));
    await alice.settle();
    await waitUntil(() => bob.doc.items.length === 2, 5000, "the change at bob");
  });

  it("both nodes appending and compacting one document at once lose no change", async () => {
    const nodes = await twoNodes({}, 3);
    const { id, alice, bob } = await sharedDocument(nodes, [0]);
    // Both write in the same turns: their rounds, writes and compactions interleave.
    for (let i = 1; i <= 20; i++) {
      alice.doc = A.change(alice.doc, (d) => d.items.push(i));
      bob.doc = A.change(bob.doc, (d) => d.items.push(100 + i));
      alice.push();
      bob.push();
      await sleep(i % 3);
    }
    await alice.settle();
    const want = [
      0,
      ...Array.from({ length: 20 }, (_, i) => i + 1),
      ...Array.from({ length: 20 }, (_, i) => 101 + i),
    ];
    await waitUntil(
      async () => (await storedItems(nodes.store, id))?.length === want.length,
      5000,
      "every change stored",
    );
    expect(await storedItems(nodes.store, id)).toEqual(want);
    await waitUntil(() => bob.doc.items.length === want.length, 5000, "bob has every change");
    expect([...alice.doc.items].sort((x, y) => x - y)).toEqual(want);
    // Compactions ran, on both nodes, and left few pieces.
    expect((await keysOf(nodes.store, id)).length).toBeLessThan(10);
  });

  it("nodes that cannot hear each other append and compact without losing a change", async () => {
    const nodes = await twoNodes({}, 2);
    const { id, alice, bob } = await sharedDocument(nodes, [0]);
    nodes.network.setOnline(false);
    for (let i = 1; i <= 6; i++) {
      alice.doc = A.change(alice.doc, (d) => d.items.push(i));
      bob.doc = A.change(bob.doc, (d) => d.items.push(100 + i));
      await alice.settle();
      await bob.settle();
    }
    // Each node compacted its own pieces only: together they still hold everything.
    const want = [0, 1, 2, 3, 4, 5, 6, 101, 102, 103, 104, 105, 106];
    expect(await storedItems(nodes.store, id)).toEqual(want);
    expect(bob.doc.items).not.toContain(1);
    expect(nodes.errors.some((context) => context.includes("telling the other nodes"))).toBe(true);
    // Back online: each node reads what it missed and tells its peer.
    nodes.network.setOnline(true);
    await waitUntil(() => bob.doc.items.length === want.length, 5000, "bob catches up");
    await waitUntil(() => alice.doc.items.length === want.length, 5000, "alice catches up");
  });

  it("a change whose news was lost reaches the other node's peer once the bus resumes", async () => {
    const nodes = await twoNodes();
    const { id, alice, bob } = await sharedDocument(nodes);
    nodes.network.setOnline(false);
    alice.doc = A.change(alice.doc, (d) => d.items.push(2));
    await alice.settle();
    expect(await storedItems(nodes.store, id)).toEqual([1, 2]); // durable, acknowledged
    await sleep(50);
    expect(bob.doc.items).toEqual([1]);
    expect(nodes.errors).toContain(`telling the other nodes of automerge document ${id}`);
    nodes.network.setOnline(true);
    await waitUntil(() => bob.doc.items.length === 2, 5000, "the change at bob");
    expect(alice.failure).toBeUndefined();
  });

  it("a piece too large for the bus is announced by a hint and read from the store", async () => {
    const nodes = await twoNodes();
    const { id, alice, bob } = await sharedDocument(nodes);
    alice.doc = A.change(alice.doc, (d) => {
      d.items.push(2);
      (d as Items & { blob?: Uint8Array }).blob = new Uint8Array(randomBytes(maxPieceOnBus * 2));
    });
    await alice.settle();
    await waitUntil(() => bob.doc.items.length === 2, 5000, "the change at bob");
    expect((bob.doc as Items & { blob?: Uint8Array }).blob?.length).toBe(maxPieceOnBus * 2);
    expect(await storedItems(nodes.store, id)).toEqual([1, 2]);
  });

  it("news that depends on lost news makes a node read the store", async () => {
    const nodes = await twoNodes();
    const { id, bob } = await sharedDocument(nodes);
    // A third node stores two changes; only the news of the second one arrives.
    const pieces = await thirdNodeWrites(nodes.store, id, [2, 3]);
    const bus = nodes.network.connect();
    buses.push(bus);
    const [name, bytes] = pieces[1] as [string, Uint8Array];
    await bus.publish(documentTopic, encodeNodeMessage({ t: "c", id, name, bytes }));
    await waitUntil(() => bob.doc.items.length === 3, 5000, "both changes at bob");
    expect(bob.doc.items).toEqual([1, 2, 3]);
    expect(nodes.errors).toEqual([]);
  });

  it("news that cannot be applied makes a node read the store", async () => {
    const nodes = await twoNodes();
    const { id, bob } = await sharedDocument(nodes);
    await thirdNodeWrites(nodes.store, id, [2]); // its news lost
    const bus = nodes.network.connect();
    buses.push(bus);
    const junk = new Uint8Array([1, 2, 3]);
    await bus.publish(
      documentTopic,
      encodeNodeMessage({ t: "c", id, name: `inc/${"A".repeat(43)}`, bytes: junk }),
    );
    await waitUntil(() => bob.doc.items.length === 2, 5000, "the change at bob");
    expect(bob.failure).toBeUndefined();
  });

  it("relays an ephemeral message to the other node's peers once", async () => {
    const nodes = await twoNodes();
    const { id, alice, bob } = await sharedDocument(nodes);
    const carol = new TestPeer(nodes.a, "carol", id);
    carol.push("request");
    await carol.settle();
    const message: EphemeralMessage = {
      type: "ephemeral",
      senderId: "alice",
      targetId: "server-a",
      documentId: id,
      count: 1,
      sessionId: "session-1",
      data: new Uint8Array([1, 2, 3]),
    };
    nodes.a.ephemeral(alice, message, 100);
    nodes.a.ephemeral(alice, message, 100); // a duplicate: relayed nowhere
    await sleep(50);
    const ephemeralAt = (peer: TestPeer) => peer.received.filter((m) => m.type === "ephemeral");
    expect(ephemeralAt(bob)).toEqual([{ ...message, targetId: "bob" }]);
    expect(ephemeralAt(carol)).toEqual([{ ...message, targetId: "carol" }]);
    expect(ephemeralAt(alice)).toEqual([]);
    // The next count goes through; one from Bob reaches Alice and Carol on the other node.
    nodes.a.ephemeral(alice, { ...message, count: 2 }, 100);
    nodes.b.ephemeral(bob, { ...message, senderId: "bob", sessionId: "session-b" }, 100);
    await sleep(50);
    expect(ephemeralAt(bob).map((m) => (m as EphemeralMessage).count)).toEqual([1, 2]);
    expect(ephemeralAt(alice).map((m) => m.senderId)).toEqual(["bob"]);
    expect(ephemeralAt(carol).map((m) => m.senderId)).toEqual(["alice", "alice", "bob"]);
  });

  it("a delete on one node closes the document's peers on both", async () => {
    const nodes = await twoNodes();
    const { id, alice, bob } = await sharedDocument(nodes);
    expect(await nodes.a.remove(id)).toBe(true);
    expect(alice.failure?.code).toBe("ERR_DOCUMENT_DELETED");
    await waitUntil(() => bob.failure !== undefined, 5000, "bob closed");
    expect(bob.failure?.code).toBe("ERR_DOCUMENT_DELETED");
    expect(bob.failure?.closeCode).toBe(4410);
    await sleep(50);
    expect(await keysOf(nodes.store, id)).toEqual([]);
    expect(nodes.b.stats.loaded).toBe(0);
  });

  it("loads the old key layout and compacts it into the new one", async () => {
    const store = createMemoryStore();
    const id = generateDocumentId();
    let doc = A.from<Items>({ items: [0] });
    const ops = [
      { type: "put" as const, key: ["automerge", "doc", id, "snapshot"], value: A.save(doc) },
    ];
    for (let seq = 0; seq < 2; seq++) {
      const before = A.getHeads(doc);
      doc = A.change(doc, (d) => d.items.push(seq + 1));
      const key = ["automerge", "doc", id, "inc", String(seq).padStart(12, "0")];
      ops.push({ type: "put", key, value: A.saveSince(doc, before) });
    }
    await store.write(ops);
    const nodes = await twoNodes({}, 3, store);
    const alice = new TestPeer(nodes.a, "alice", id);
    alice.push("request");
    await alice.settle();
    expect(alice.doc.items).toEqual([0, 1, 2]);
    alice.doc = A.change(alice.doc, (d) => d.items.push(3));
    await alice.settle();
    const keys = await keysOf(store, id);
    expect(keys.some((key) => key === "snapshot" || /^inc\/\d{12}$/.test(key))).toBe(false);
    expect(keys).toHaveLength(1);
    expect(await storedItems(store, id)).toEqual([0, 1, 2, 3]);
  });
});
