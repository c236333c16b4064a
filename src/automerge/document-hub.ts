// The server side of automerge-repo sync: per-(document, peer) sync states, a per-document task
// queue (one task at a time per document, documents in parallel), durability before any reply,
// forwarding to every other peer of a document, ephemeral relay, and eviction under a budget.

import { setImmediate as nextTurn } from "node:timers/promises";
import type { EphemeralMessage, SyncMessage } from "../protocol/automerge-messages.js";
import { createDoc, type DocBackend, initSyncState } from "./automerge-backend.js";
import { AwaitingPeers } from "./awaiting-peers.js";
import {
  createEntry,
  type DocumentEntry,
  type HubPeer,
  isLoaded,
  loadInto,
  type PeerLink,
  restoreSyncStates,
  type SyncJob,
  unloadEntry,
} from "./document-entry.js";
import type { DocumentHubOptions, HubObserver } from "./document-hub-options.js";
import { DocumentResidency, type ResidencyHost } from "./document-residency.js";
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
import { createWorkerDocuments, type WorkerDocuments } from "./worker-documents.js";

export type { DocumentHubOptions, HubObserver };

/** Largest number of messages generated for one peer in one round. */
const maxRepliesPerRound = 8;

/** Documents, peers and their sync; one per server. */
export class DocumentHub {
  readonly #docs: DocumentStore;
  readonly #commit: GroupCommit;
  readonly #entries = new Map<string, DocumentEntry>();
  readonly #resident: DocumentResidency;
  readonly #peers = new Map<string, { peer: HubPeer; docs: Set<string> }>();
  readonly #ephemeral = new EphemeralRelay();
  /** Peers told a document is unavailable, to be told when it appears (awaiting-peers.ts). */
  readonly #awaiting = new AwaitingPeers();
  readonly #maxDocumentBytes: number;
  readonly #compactAfter: number;
  readonly #observer: HubObserver;
  readonly #tasks = new Set<Promise<void>>();
  /**
   * Bounds the documents worked on at once: without it, a burst of messages for 1,000 documents
   * loads all 1,000 before the budget can evict any, and WASM memory, once grown, never shrinks.
   */
  readonly #slots: TaskSlots;
  /** Huge documents live in worker threads (undefined: every document on this thread). */
  readonly #workers: WorkerDocuments | undefined;
  #closed = false;

  /** The server's peer id, used as senderId of everything it sends. */
  readonly serverPeerId: string;

  constructor(options: DocumentHubOptions & { serverPeerId: string }) {
    this.#observer = options.observer ?? {};
    this.#commit = createGroupCommit(options.store, {
      observe: ({ seconds, writes }) => this.#observer.saved?.(seconds, writes),
    });
    this.#docs = new DocumentStore(options.store, this.#commit);
    this.#maxDocumentBytes = options.maxDocumentBytes ?? 256 * 1024 * 1024;
    this.#compactAfter = options.compactAfterChunks ?? 32;
    this.#slots = createTaskSlots(options.maxActiveDocuments ?? 256);
    this.serverPeerId = options.serverPeerId;
    this.#workers = createWorkerDocuments(options, (documents, error) =>
      this.#lost(documents, error),
    );
    const hub = this;
    const host: ResidencyHost = {
      observer: this.#observer,
      get closing() {
        return hub.#closed;
      },
      compact: (entry) => this.#compact(entry),
      unloadFromWorker: async (entry) => this.#workers?.unload(entry, true),
      resume: (entry) => {
        if (entry.inbox.length > 0) this.#track(this.#run(entry));
        else this.#dropIfUnused(entry);
      },
      track: (task) => this.#track(task),
    };
    const budget = options.memoryBudgetBytes ?? 64 * 1024 * 1024;
    this.#resident = new DocumentResidency(host, budget, options.idleEvictMs ?? 30_000);
  }

  /** The server's storage id (stable across restarts), for the `peer` reply. */
  storageId(): Promise<string> {
    return this.#docs.storageId();
  }

  /** Documents loaded now, and connected peers. */
  get stats(): { loaded: number; peers: number; memoryEstimate: number } {
    const { size: loaded, memory: memoryEstimate } = this.#resident;
    return { loaded, peers: this.#peers.size, memoryEstimate };
  }

  /** Worker threads running now (huge documents live there). */
  get workerThreads(): number {
    return this.#workers?.threads ?? 0;
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
        if (entry.inWorker) this.#workers?.dropPeer(entry, peer.peerId);
        entry.peers.delete(peer.peerId);
      }
      if (entry) this.#dropIfUnused(entry);
    }
    this.#awaiting.forget(peer);
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

  /**
   * Stops taking work, finishes running tasks, makes every accepted change durable, then
   * terminates the worker threads.
   */
  async close(): Promise<void> {
    this.#closed = true;
    while (this.#tasks.size > 0) await Promise.allSettled([...this.#tasks]);
    await this.#commit.flush();
    this.#resident.close();
    await this.#workers?.close();
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
        if (entry.doc && this.#workers?.wants(entry, entry.storedBytes)) this.#unloadHere(entry);
        if (!isLoaded(entry) && !(await this.#load(entry))) continue;
        await (entry.inWorker ? this.#workerRound(entry) : this.#syncRound(entry));
      }
      if (isLoaded(entry) && entry.chunks >= this.#compactAfter) await this.#compact(entry);
    } catch (error) {
      // Unexpected (an Automerge or store failure outside the handled cases): the document's
      // memory state is suspect, so it is dropped and reloaded from the store on next use, and
      // the peers still waiting on it are told rather than left hanging.
      this.#observer.error?.(error, `syncing document ${entry.documentId}`);
      const waiting = new Set(entry.inbox.splice(0).map((job) => job.peer));
      for (const peer of waiting) peer.fail(internalError(entry.documentId, error));
      if (isLoaded(entry)) this.#forget(entry);
    } finally {
      this.#slots.release();
      entry.running = false;
      entry.lastUsed = Date.now();
      this.#dropIfUnused(entry);
      this.#resident.enforceBudget();
    }
  }

  /**
   * Loads the document (or starts an empty one), in a worker when it is huge; false when it
   * cannot be loaded.
   */
  async #load(entry: DocumentEntry): Promise<boolean> {
    const started = performance.now();
    try {
      this.#resident.enforceBudget();
      const stored = await this.#docs.read(entry.documentId);
      if (!stored && entry.inbox.every((job) => job.type === "request")) {
        // Unknown: answered from the store's lookup alone, nothing instantiated.
        for (const job of entry.inbox.splice(0)) this.#unavailable(job.peer, entry.documentId);
        return false;
      }
      if (this.#workers?.wants(entry, stored?.bytes ?? 0)) {
        await this.#workers.open(entry, stored);
      } else {
        const doc = stored ? this.#docs.decode(entry.documentId, stored).doc : createDoc();
        loadInto(entry, doc, stored);
        restoreSyncStates(entry);
      }
    } catch (error) {
      this.#observer.error?.(error, `loading document ${entry.documentId}`);
      for (const job of entry.inbox.splice(0)) this.#unavailable(job.peer, entry.documentId);
      return false;
    }
    this.#resident.add(entry);
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
    this.#resident.touch(entry);
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
    if (moved) this.#admitAwaiting(entry);
    const links = moved ? [...entry.peers.values()] : [...touched];
    for (const link of links) this.#reply(entry, link, !moved);
  }

  /**
   * The document has content now: the peers told it was unavailable become its peers, with a
   * fresh sync state, so this round's replies (to every peer, as the heads moved) reach them.
   */
  #admitAwaiting(entry: DocumentEntry): void {
    for (const peer of this.#awaiting.take(entry.documentId)) {
      if (!this.#isAttached(peer) || entry.peers.has(peer.peerId)) continue;
      entry.peers.set(peer.peerId, { peer, state: initSyncState(), encoded: undefined });
      this.#peers.get(peer.peerId)?.docs.add(entry.documentId);
    }
  }

  /** Applies one message; returns the sender's link, or undefined when nothing applies. */
  #receive(entry: DocumentEntry, job: SyncJob) {
    const { peer } = job;
    const doc = entry.doc as DocBackend;
    if (!this.#accepts(entry, job)) return undefined;
    if (job.type === "request" && doc.getHeads().length === 0) {
      this.#unavailable(peer, entry.documentId);
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

  /** False (failing the peer when the message is too large) when `job` is not to be applied. */
  #accepts(entry: DocumentEntry, job: SyncJob): boolean {
    if (!this.#isAttached(job.peer)) return false;
    // The message's size bounds what it can add (changes travel compressed at most as stored).
    if (entry.storedBytes + job.data.length <= this.#maxDocumentBytes) return true;
    job.peer.fail(documentTooLarge(entry.documentId, this.#maxDocumentBytes));
    return false;
  }

  /**
   * A round of a document in a worker, like #syncRound: the worker receives the messages and
   * makes the bytes to store and the replies; the replies go out once those bytes are durable.
   */
  async #workerRound(entry: DocumentEntry): Promise<void> {
    this.#resident.touch(entry);
    const jobs = entry.inbox.splice(0).filter((job) => this.#accepts(entry, job));
    const round = await (this.#workers as WorkerDocuments).round(entry, jobs, maxRepliesPerRound);
    for (const peer of round.unavailable) this.#unavailable(peer, entry.documentId);
    for (const [peer, text] of round.bad) peer.fail(badSyncData(entry.documentId, new Error(text)));
    const { write, heads } = round;
    try {
      if (write)
        await this.#resident.resizing(entry, () => this.#docs.saveBytes(entry, write, heads));
    } catch (error) {
      this.#discard(entry, round.touched, error);
      return;
    }
    for (const [link, replies] of round.replies) this.#send(entry, link, replies);
  }

  /** Appends what changed since the last durable heads; true when the heads moved. */
  #persist(entry: DocumentEntry): Promise<boolean> {
    return this.#resident.resizing(entry, () => this.#docs.saveChanges(entry));
  }

  /** Rewrites the snapshot and drops the chunks it covers (the document is idle meanwhile). */
  #compact(entry: DocumentEntry): Promise<void> {
    const workers = this.#workers;
    if (!entry.inWorker || !workers)
      return this.#resident.resizing(entry, () => this.#docs.compact(entry));
    return this.#resident.resizing(entry, async () => {
      await this.#docs.replaceChunks(entry, await workers.snapshot(entry));
    });
  }

  /** Sends `link` what Automerge has for it; `cacheable` when the heads did not move this round. */
  #reply(entry: DocumentEntry, link: PeerLink, cacheable: boolean): void {
    if (!this.#isAttached(link.peer) || !link.state) return;
    this.#send(entry, link, takeReplies(entry, link, cacheable, maxRepliesPerRound));
  }

  #send(entry: DocumentEntry, link: PeerLink, replies: readonly Uint8Array[]): void {
    if (!this.#isAttached(link.peer)) return;
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
    this.#resident.remove(entry, false);
    if (entry.inWorker) this.#workers?.unload(entry, false).catch(() => {});
    unloadEntry(entry);
    for (const link of entry.peers.values()) link.encoded = undefined;
  }

  /**
   * Unloads a document from this thread (sync states kept) so that its next load puts it in a
   * worker: it has grown past the threshold, or a message that large is waiting. Everything it
   * holds is durable (each round ends with its write), so the worker loads it from the store.
   */
  #unloadHere(entry: DocumentEntry): void {
    this.#resident.remove(entry);
    unloadEntry(entry);
  }

  /** A worker died with these documents: their peers are told (1011); the store has the rest. */
  #lost(documents: readonly string[], error: Error): void {
    this.#observer.error?.(error, "running an automerge worker");
    for (const documentId of documents) {
      const entry = this.#entries.get(documentId);
      if (!entry?.inWorker) continue;
      this.#resident.remove(entry);
      entry.inWorker = false;
      for (const link of entry.peers.values()) {
        link.encoded = undefined;
        link.peer.fail(internalError(documentId, error));
      }
    }
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
    if (isLoaded(entry) || entry.running || entry.inbox.length > 0 || entry.peers.size > 0) return;
    this.#entries.delete(entry.documentId);
  }

  #unavailable(peer: HubPeer, documentId: string): void {
    if (!this.#isAttached(peer)) return;
    this.#awaiting.add(documentId, peer);
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
