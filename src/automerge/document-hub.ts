// The server side of automerge-repo sync: per-(document, peer) sync states, a per-document task
// queue (one task at a time per document, documents in parallel), durability before any reply,
// forwarding to every other peer of a document, ephemeral relay, and eviction under a budget.

import { setImmediate as nextTurn } from "node:timers/promises";
import type { EphemeralMessage, SyncMessage } from "../protocol/automerge-messages.js";
import { createDoc, type DocBackend, initSyncState } from "./automerge-backend.js";
import {
  createEntry,
  type DocumentEntry,
  estimateMemory,
  type HubPeer,
  loadInto,
  type PeerLink,
  restoreSyncStates,
  unloadEntry,
} from "./document-entry.js";
import type { DocumentHubOptions, HubObserver } from "./document-hub-options.js";
import { DocumentStore } from "./document-store.js";
import { EphemeralRelay } from "./ephemeral-relay.js";
import { answers, takeReplies } from "./fresh-answer.js";
import { createGroupCommit, type GroupCommit } from "./group-commit.js";
import {
  badSyncData,
  documentTooLarge,
  internalError,
  notSaved,
  replacedPeer,
} from "./hub-errors.js";
import { createTaskSlots, type TaskSlots } from "./task-slots.js";

export type { DocumentHubOptions, HubObserver };

/** Largest number of messages generated for one peer in one round. */
const maxRepliesPerRound = 8;

/** Documents, peers and their sync; one per server. */
export class DocumentHub {
  readonly #docs: DocumentStore;
  readonly #commit: GroupCommit;
  readonly #entries = new Map<string, DocumentEntry>();
  /** Loaded entries, least recently used first (a Map keeps insertion order). */
  readonly #loaded = new Map<string, DocumentEntry>();
  readonly #peers = new Map<string, { peer: HubPeer; docs: Set<string> }>();
  readonly #ephemeral = new EphemeralRelay();
  readonly #budget: number;
  readonly #idleMs: number;
  readonly #maxDocumentBytes: number;
  readonly #compactAfter: number;
  readonly #observer: HubObserver;
  readonly #sweeper: ReturnType<typeof setInterval>;
  readonly #tasks = new Set<Promise<void>>();
  /**
   * Bounds the documents worked on at once: without it, a burst of messages for 1,000 documents
   * loads all 1,000 before the budget can evict any, and WASM memory, once grown, never shrinks.
   */
  readonly #slots: TaskSlots;
  #memory = 0;
  #closed = false;

  /** The server's peer id, used as senderId of everything it sends. */
  readonly serverPeerId: string;

  constructor(options: DocumentHubOptions & { serverPeerId: string }) {
    this.#observer = options.observer ?? {};
    this.#commit = createGroupCommit(options.store, {
      observe: ({ seconds, writes }) => this.#observer.saved?.(seconds, writes),
    });
    this.#docs = new DocumentStore(options.store, this.#commit);
    this.#budget = options.memoryBudgetBytes ?? 64 * 1024 * 1024;
    this.#idleMs = options.idleEvictMs ?? 30_000;
    this.#maxDocumentBytes = options.maxDocumentBytes ?? 256 * 1024 * 1024;
    this.#compactAfter = options.compactAfterChunks ?? 32;
    this.#slots = createTaskSlots(options.maxActiveDocuments ?? 256);
    this.serverPeerId = options.serverPeerId;
    this.#sweeper = setInterval(() => this.#evictIdle(), Math.max(50, this.#idleMs / 2));
    this.#sweeper.unref();
  }

  /** The server's storage id (stable across restarts), for the `peer` reply. */
  storageId(): Promise<string> {
    return this.#docs.storageId();
  }

  /** Documents loaded now, and connected peers. */
  get stats(): { loaded: number; peers: number; memoryEstimate: number } {
    return { loaded: this.#loaded.size, peers: this.#peers.size, memoryEstimate: this.#memory };
  }

  /** Binds a peer id to a socket; a socket already bound to it is failed and forgotten. */
  attach(peer: HubPeer): void {
    const previous = this.#peers.get(peer.peerId);
    if (previous && previous.peer !== peer) {
      this.detach(previous.peer);
      previous.peer.fail(replacedPeer(peer.peerId));
    }
    this.#peers.set(peer.peerId, { peer, docs: new Set() });
    this.#observer.peerAttached?.();
  }

  /** Forgets a peer: its sync states and ephemeral sessions (on disconnect or re-join). */
  detach(peer: HubPeer): void {
    const record = this.#peers.get(peer.peerId);
    if (!record || record.peer !== peer) return;
    this.#peers.delete(peer.peerId);
    this.#observer.peerDetached?.();
    for (const documentId of record.docs) {
      const entry = this.#entries.get(documentId);
      const link = entry?.peers.get(peer.peerId);
      if (entry && link?.peer === peer) {
        link.state?.free();
        entry.peers.delete(peer.peerId);
      }
      if (entry) this.#dropIfUnused(entry);
    }
    this.#ephemeral.forget(peer.peerId);
  }

  /** Queues a `request` or `sync` from `peer`; replies follow once any change is durable. */
  sync(peer: HubPeer, message: SyncMessage): void {
    if (this.#closed || !this.#isAttached(peer)) return;
    this.#observer.syncIn?.(message.data.length);
    this.#enqueue(this.#entry(message.documentId), peer, message);
  }

  /** Relays an ephemeral message to the document's other peers, once per (sender, session, count). */
  ephemeral(peer: HubPeer, message: EphemeralMessage): void {
    if (!this.#isAttached(peer)) return;
    this.#ephemeral.relay(message, this.#entries.get(message.documentId)?.peers);
  }

  /** Stops taking work, finishes running tasks and makes every accepted change durable. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#sweeper);
    while (this.#tasks.size > 0) await Promise.allSettled([...this.#tasks]);
    await this.#commit.flush();
    for (const entry of this.#loaded.values()) unloadEntry(entry);
    this.#loaded.clear();
  }

  #enqueue(entry: DocumentEntry, peer: HubPeer, message: SyncMessage): void {
    if (!this.#isAttached(peer)) return;
    this.#peers.get(peer.peerId)?.docs.add(entry.documentId);
    entry.inbox.push({ peer, type: message.type, data: message.data });
    if (!entry.running) this.#track(this.#run(entry));
  }

  /** Runs the document's queue until it is empty; one runner per document at a time. */
  async #run(entry: DocumentEntry): Promise<void> {
    entry.running = true;
    await this.#slots.acquire();
    try {
      while (entry.inbox.length > 0) {
        if (!entry.doc && !(await this.#load(entry))) continue;
        await this.#syncRound(entry);
      }
      if (entry.doc && entry.chunks >= this.#compactAfter) await this.#compact(entry);
    } catch (error) {
      // Unexpected (an Automerge or store failure outside the handled cases): the document's
      // memory state is suspect, so it is dropped and reloaded from the store on next use, and
      // the peers still waiting on it are told rather than left hanging.
      this.#observer.error?.(error, `syncing document ${entry.documentId}`);
      const waiting = new Set(entry.inbox.splice(0).map((job) => job.peer));
      for (const peer of waiting) peer.fail(internalError(entry.documentId, error));
      if (entry.doc) this.#forget(entry);
    } finally {
      this.#slots.release();
      entry.running = false;
      entry.lastUsed = Date.now();
      this.#dropIfUnused(entry);
      this.#enforceBudget();
    }
  }

  /** Loads the document (or starts an empty one); false when it cannot be loaded. */
  async #load(entry: DocumentEntry): Promise<boolean> {
    const started = performance.now();
    try {
      this.#enforceBudget();
      const stored = await this.#docs.load(entry.documentId);
      if (!stored && entry.inbox.every((job) => job.type === "request")) {
        // Unknown: answered from the store's lookup alone, nothing instantiated.
        for (const job of entry.inbox.splice(0)) this.#unavailable(job.peer, entry.documentId);
        return false;
      }
      loadInto(entry, stored?.doc ?? createDoc(), stored);
    } catch (error) {
      this.#observer.error?.(error, `loading document ${entry.documentId}`);
      for (const job of entry.inbox.splice(0)) this.#unavailable(job.peer, entry.documentId);
      return false;
    }
    restoreSyncStates(entry);
    this.#loaded.set(entry.documentId, entry);
    this.#memory += estimateMemory(entry);
    this.#observer.documentLoaded?.((performance.now() - started) / 1000);
    return true;
  }

  /**
   * Receives every queued message (yielding to the event loop between them, so one busy or
   * huge document never holds up the others for more than one message), makes the result
   * durable in one write, and only then replies: to the senders, and to every other peer of
   * the document when its heads moved.
   */
  async #syncRound(entry: DocumentEntry): Promise<void> {
    this.#touch(entry);
    const jobs = entry.inbox.splice(0);
    const touched = new Set<PeerLink>();
    for (const [index, job] of jobs.entries()) {
      if (index > 0) await nextTurn();
      const link = this.#receive(entry, job);
      if (link) touched.add(link);
    }
    let moved: boolean;
    try {
      moved = await this.#persist(entry);
    } catch (error) {
      this.#discard(entry, touched, error);
      return;
    }
    const links = moved ? [...entry.peers.values()] : [...touched];
    for (const link of links) this.#reply(entry, link, !moved);
  }

  /** Applies one message; returns the sender's link, or undefined when nothing applies. */
  #receive(entry: DocumentEntry, job: { peer: HubPeer; type: string; data: Uint8Array }) {
    const { peer } = job;
    const doc = entry.doc as DocBackend;
    if (!this.#isAttached(peer)) return undefined;
    if (job.type === "request" && doc.getHeads().length === 0) {
      this.#unavailable(peer, entry.documentId);
      return undefined;
    }
    // The message's size bounds what it can add (changes travel compressed at most as stored).
    if (entry.storedBytes + job.data.length > this.#maxDocumentBytes) {
      peer.fail(documentTooLarge(entry.documentId, this.#maxDocumentBytes));
      return undefined;
    }
    let link = entry.peers.get(peer.peerId);
    if (!link || link.peer !== peer) {
      link?.state?.free();
      link = { peer, state: undefined, encoded: undefined, firstMessage: job.data };
      entry.peers.set(peer.peerId, link);
      if (answers(entry.fresh, job.data, doc.getHeads())) {
        // A fresh peer asking what the previous fresh peer asked: reuse that answer.
        link.state = entry.fresh.state.clone();
        link.cached = entry.fresh.replies;
        link.firstMessage = undefined;
        this.#observer.freshAnswerReused?.();
        return link;
      }
    }
    link.state ??= initSyncState();
    try {
      doc.receiveSyncMessage(link.state, job.data);
    } catch (error) {
      peer.fail(badSyncData(entry.documentId, error));
      return undefined;
    }
    return link;
  }

  /** Appends what changed since the last durable heads; true when the heads moved. */
  #persist(entry: DocumentEntry): Promise<boolean> {
    return this.#resizing(entry, () => this.#docs.saveChanges(entry));
  }

  /** Rewrites the snapshot and drops the chunks it covers (the document is idle meanwhile). */
  #compact(entry: DocumentEntry): Promise<void> {
    return this.#resizing(entry, () => this.#docs.compact(entry));
  }

  /** Runs `work`, which changes what is stored of `entry`, and keeps the memory estimate. */
  async #resizing<T>(entry: DocumentEntry, work: () => Promise<T>): Promise<T> {
    const before = estimateMemory(entry);
    const result = await work();
    this.#memory += estimateMemory(entry) - before;
    return result;
  }

  /** Sends `link` what Automerge has for it; `cacheable` when the heads did not move this round. */
  #reply(entry: DocumentEntry, link: PeerLink, cacheable: boolean): void {
    if (!this.#isAttached(link.peer) || !link.state) return;
    const replies = takeReplies(entry, link, cacheable, maxRepliesPerRound);
    for (const data of replies) {
      this.#observer.syncOut?.(data.length);
      link.peer.send({
        type: "sync",
        senderId: this.serverPeerId,
        targetId: link.peer.peerId,
        documentId: entry.documentId,
        data,
      });
    }
  }

  /**
   * A write failed: what was received is not durable and must never be acknowledged. The
   * senders' sockets are closed and the document is dropped from memory, so the next use loads
   * what the store really holds; every peer of it starts its sync afresh.
   */
  #discard(entry: DocumentEntry, senders: Set<PeerLink>, cause: unknown): void {
    this.#observer.error?.(cause, `saving document ${entry.documentId}`);
    for (const link of senders) link.peer.fail(notSaved(entry.documentId, cause));
    this.#forget(entry);
  }

  /** Drops the document from memory and restarts its peers' sync from nothing. */
  #forget(entry: DocumentEntry): void {
    this.#memory -= estimateMemory(entry);
    unloadEntry(entry);
    for (const link of entry.peers.values()) link.encoded = undefined;
    this.#loaded.delete(entry.documentId);
  }

  #evict(entry: DocumentEntry): void {
    if (entry.running || entry.inbox.length > 0 || !entry.doc) return;
    this.#memory -= estimateMemory(entry);
    unloadEntry(entry);
    this.#loaded.delete(entry.documentId);
    this.#observer.documentEvicted?.();
    this.#dropIfUnused(entry);
  }

  /**
   * Evicts an idle document; one stored as several chunks is compacted first (in the
   * background), so its next load reads one snapshot.
   */
  #retire(entry: DocumentEntry): void {
    if (entry.running || entry.inbox.length > 0 || !entry.doc) return;
    if (entry.chunks <= 1 || this.#closed) {
      this.#evict(entry);
      return;
    }
    entry.running = true;
    const task = async () => {
      try {
        await this.#compact(entry);
      } catch (error) {
        this.#observer.error?.(error, `compacting document ${entry.documentId}`);
      } finally {
        entry.running = false;
        if (entry.inbox.length > 0) this.#track(this.#run(entry));
        else this.#evict(entry);
      }
    };
    this.#track(task());
  }

  #enforceBudget(): void {
    if (this.#memory <= this.#budget) return;
    let excess = this.#memory - this.#budget;
    for (const entry of this.#loaded.values()) {
      if (excess <= 0) return;
      if (entry.running) continue;
      excess -= estimateMemory(entry);
      this.#retire(entry);
    }
  }

  #evictIdle(): void {
    const cutoff = Date.now() - this.#idleMs;
    for (const entry of [...this.#loaded.values()]) {
      if (entry.lastUsed <= cutoff) this.#retire(entry);
    }
  }

  #touch(entry: DocumentEntry): void {
    entry.lastUsed = Date.now();
    if (this.#loaded.delete(entry.documentId)) this.#loaded.set(entry.documentId, entry);
  }

  #entry(documentId: string): DocumentEntry {
    let entry = this.#entries.get(documentId);
    if (!entry) {
      entry = createEntry(documentId);
      this.#entries.set(documentId, entry);
    }
    return entry;
  }

  #dropIfUnused(entry: DocumentEntry): void {
    if (entry.doc || entry.running || entry.inbox.length > 0 || entry.peers.size > 0) return;
    this.#entries.delete(entry.documentId);
  }

  #unavailable(peer: HubPeer, documentId: string): void {
    if (!this.#isAttached(peer)) return;
    peer.send({
      type: "doc-unavailable",
      senderId: this.serverPeerId,
      targetId: peer.peerId,
      documentId,
    });
  }

  #isAttached(peer: HubPeer): boolean {
    return this.#peers.get(peer.peerId)?.peer === peer;
  }

  #track(task: Promise<void>): void {
    this.#tasks.add(task);
    void task.finally(() => this.#tasks.delete(task));
  }
}
