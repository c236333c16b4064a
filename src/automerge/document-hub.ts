// The server side of automerge-repo sync: per-(document, peer) sync states, a per-document task
// queue (one task at a time per document, documents in parallel), durability before any reply,
// forwarding to every other peer of a document, ephemeral relay, and eviction under a budget.
// The hub coordinates: a round's receive-persist-reply is in sync-rounds.ts, what it sends peers
// in hub-replies.ts, which documents stay loaded in document-residency.ts, what it tells and
// hears from other nodes sharing its store in document-nodes.ts.

import type { EphemeralMessage, SyncMessage } from "../protocol/automerge-messages.js";
import { createTaskSlots, type TaskSlots } from "../util/task-slots.js";
import { DocumentDeletes } from "./document-deletes.js";
import {
  createEntry,
  type DocumentEntry,
  type HubPeer,
  type NodeJob,
  sendersOf,
  unloadEntry,
} from "./document-entry.js";
import type { DocumentHubOptions, HubObserver } from "./document-hub-options.js";
import { DocumentLoader } from "./document-loader.js";
import { DocumentNodes } from "./document-nodes.js";
import { DocumentResidency, type ResidencyHost } from "./document-residency.js";
import { DocumentStore } from "./document-store.js";
import { EphemeralRelay } from "./ephemeral-relay.js";
import { createGroupCommit, type GroupCommit } from "./group-commit.js";
import { documentDeleted, internalError, replacedPeer } from "./hub-errors.js";
import { HubReplies } from "./hub-replies.js";
import { SyncRounds } from "./sync-rounds.js";
import { createWorkerDocuments, type WorkerDocuments } from "./worker-documents.js";

/**
 * Documents, peers and their sync; one per server. Each document's entry has one phase
 * (document-phase.ts), mostly `unloaded` → `loading` → `syncing` ⇄ `resident` → `evicting` →
 * `unloaded`; nextPhase there decides every move.
 *
 * Invariants:
 * 1. No reply acknowledges a change before it is durable: a round's replies go out only once its
 *    one write has resolved (sync-rounds.ts); a failed write is never acknowledged: its senders'
 *    sockets close (1011) and the document is dropped, so its next use reads the store.
 * 2. At most one task holds a document: its queue's runner (`loading`, `syncing`) or an eviction
 *    (`evicting`). Messages arriving meanwhile wait in its inbox and are applied in arrival order
 *    by that runner, or by the one started when the eviction ends.
 * 3. A document in memory is in one place only, this thread or one worker (its `residence`), and
 *    the residency lists exactly the entries that have one.
 * 4. At most `maxActiveDocuments` runners work at once (task slots; an eviction takes none), and
 *    the Automerge work of a document in a worker (load, receive, generate, save) runs there.
 * 5. Only the socket bound to a peer id now is heard or answered; binding the id again closes
 *    the older socket (4409).
 * 6. An entry is forgotten only when `unloaded`, with an empty inbox and no peer.
 * 7. Unloading a document keeps its peers' sync progress (their encoded sync states); that is
 *    lost only when a peer leaves, or after a failure (a failed write, an unexpected error, a
 *    worker that died), and then the peer's sync restarts from nothing.
 * 8. With other nodes (a bus): their news is a job in the document's inbox like a peer's
 *    message, applied by its runner; a compaction deletes only the stored pieces its document
 *    includes (document-store.ts), and a failure to tell the others never fails a round.
 */
export class DocumentHub {
  readonly #docs: DocumentStore;
  readonly #commit: GroupCommit;
  readonly #entries = new Map<string, DocumentEntry>();
  readonly #resident: DocumentResidency;
  readonly #peers = new Map<string, { peer: HubPeer; docs: Set<string> }>();
  /** Relays ephemeral messages to the peers that read, each once (a bounded dedupe). */
  readonly #ephemeral: EphemeralRelay;
  /** Everything sent to peers about documents (sync replies, doc-unavailable). */
  readonly #replies: HubReplies;
  /** Receives, persists, then replies: one round of a document's queue. */
  readonly #rounds: SyncRounds;
  /** Puts documents in memory for their runners. */
  readonly #loader: DocumentLoader;
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
  /** Deletes (admin, other nodes'); a message for a document being deleted closes its sender. */
  readonly #deletes: DocumentDeletes;
  /** The other nodes sharing the store (undefined: this node is alone). */
  readonly #nodes: DocumentNodes | undefined;

  /** The server's peer id, used as senderId of everything it sends. */
  readonly serverPeerId: string;

  constructor(options: DocumentHubOptions & { serverPeerId: string }) {
    this.#observer = options.observer ?? {};
    this.#commit = createGroupCommit(options.store, {
      observe: ({ seconds, writes }) => this.#observer.saved?.(seconds, writes),
    });
    this.#nodes =
      options.bus &&
      new DocumentNodes(options.bus, {
        observer: this.#observer,
        stored: (documentId, name, data) => this.#news(documentId, { type: "stored", name, data }),
        deleted: (documentId) => {
          if (!this.#closed) this.#track(this.#deletes.deletedElsewhere(documentId));
        },
        refresh: (documentId) => this.#refresh(documentId),
        ephemeral: (from, message, bytes) => {
          const peers = this.#entries.get(message.documentId)?.peers;
          this.#ephemeral.relayFromNode(from, message, bytes, peers);
        },
      });
    const nodes = this.#nodes;
    this.#docs = new DocumentStore(
      options.store,
      this.#commit,
      nodes && ((documentId, name, bytes) => nodes.stored(documentId, name, bytes)),
    );
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
    const { settings } = options;
    this.#ephemeral = new EphemeralRelay({
      maxBytes: settings.automergeMaxEphemeralBytes,
      observer: this.#observer,
    });
    this.#resident = new DocumentResidency(
      host,
      settings.automergeMemoryBudget,
      settings.automergeIdleEvictMs,
    );
    const isAttached = (peer: HubPeer) => this.#isAttached(peer);
    this.#replies = new HubReplies({
      serverPeerId: this.serverPeerId,
      observer: this.#observer,
      isAttached,
      joined: (peer, documentId) => this.#joined(peer, documentId),
    });
    this.#rounds = new SyncRounds({
      docs: this.#docs,
      resident: this.#resident,
      replies: this.#replies,
      workers: this.#workers,
      observer: this.#observer,
      maxDocumentBytes: settings.automergeMaxDocumentBytes,
      isAttached,
      forget: (entry) => this.#forget(entry),
    });
    this.#deletes = new DocumentDeletes({
      docs: this.#docs,
      observer: this.#observer,
      nodes: this.#nodes,
      entry: (documentId) => this.#entries.get(documentId),
      forget: (entry) => this.#forget(entry),
      dropIfUnused: (entry) => this.#dropIfUnused(entry),
    });
    this.#loader = new DocumentLoader({
      docs: this.#docs,
      resident: this.#resident,
      replies: this.#replies,
      workers: this.#workers,
      observer: this.#observer,
      withNodes: this.#nodes !== undefined,
    });
  }

  /**
   * Starts hearing the other nodes (when there is a bus); resolves once subscribed. Call once
   * before serving.
   */
  async start(): Promise<void> {
    await this.#nodes?.start();
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
        if (entry.residence?.in === "worker") this.#workers?.dropPeer(entry, peer.peerId);
        entry.peers.delete(peer.peerId);
      }
      if (entry) this.#dropIfUnused(entry);
    }
    this.#replies.forget(peer);
    this.#ephemeral.forget(peer);
  }

  /** Queues a `request` or `sync` from `peer`; replies follow once any change is durable. */
  sync(peer: HubPeer, message: SyncMessage): void {
    if (this.#closed || !this.#isAttached(peer)) return;
    if (this.#deletes.has(message.documentId)) {
      peer.fail(documentDeleted(message.documentId));
      return;
    }
    this.#observer.syncIn?.(message.data.length);
    this.#enqueue(this.#entry(message.documentId), peer, message);
  }

  /**
   * Relays an ephemeral message (a frame of `bytes`) to the document's other peers, once per
   * (sender, session, count), best effort: dropped when too large, and for a peer over budget.
   */
  ephemeral(peer: HubPeer, message: EphemeralMessage, bytes: number): void {
    if (!this.#isAttached(peer)) return;
    const peers = this.#entries.get(message.documentId)?.peers;
    if (this.#ephemeral.relay(peer, message, bytes, peers)) this.#nodes?.ephemeral(message);
  }

  /**
   * Deletes a document (the admin API): its waiting messages are dropped, the task holding it
   * finishes, every peer syncing it is closed (4410), it leaves memory and its keys the store.
   * False when neither the store nor memory had it. A client that still holds a copy may push it
   * again; that is a new document (rate-limited as any). The other nodes close its peers too.
   */
  remove(documentId: string): Promise<boolean> {
    return this.#deletes.remove(documentId);
  }

  /**
   * Stops taking work, finishes running tasks, makes every accepted change durable, then
   * terminates the worker threads.
   */
  async close(): Promise<void> {
    this.#closed = true;
    while (this.#tasks.size > 0) await Promise.allSettled([...this.#tasks]);
    await this.#commit.flush();
    // Last: the writes just flushed are still announced (news that comes now is ignored).
    await this.#nodes?.close();
    this.#resident.close();
    await this.#workers?.close();
  }

  #enqueue(entry: DocumentEntry, peer: HubPeer, message: SyncMessage): void {
    if (!this.#isAttached(peer)) return;
    this.#joined(peer, entry.documentId);
    entry.inbox.push({ peer, type: message.type, data: message.data });
    if (!entry.busy) this.#track(this.#run(entry));
  }

  /**
   * Another node's news of a document, queued on its entry like a peer's message. A document
   * this node has no entry for is none of its business (its next load reads the store), unless
   * a peer here was told it is unavailable: it is loaded now, and that peer told it exists.
   */
  #news(documentId: string, job: NodeJob): void {
    const awaited = this.#replies.isAwaited(documentId);
    const entry = this.#entries.get(documentId) ?? (awaited ? this.#entry(documentId) : undefined);
    if (this.#closed || !entry || this.#deletes.has(documentId)) return;
    if (job.type === "refresh" && entry.inbox.some((queued) => queued.type === "refresh")) return;
    entry.inbox.push(job);
    if (!entry.busy) this.#track(this.#run(entry));
  }

  /** News may have been lost: of one document, or (undefined) of every one with peers here. */
  #refresh(documentId: string | undefined): void {
    if (documentId !== undefined) {
      this.#news(documentId, { type: "refresh" });
      return;
    }
    for (const entry of [...this.#entries.values()]) {
      if ((entry.residence || entry.busy) && entry.peers.size > 0) {
        this.#news(entry.documentId, { type: "refresh" });
      }
    }
  }

  /** Runs the document's queue until it is empty; one runner per document at a time. */
  async #run(entry: DocumentEntry): Promise<void> {
    entry.advance({ type: "runner-started" });
    await this.#slots.acquire();
    try {
      while (entry.inbox.length > 0) {
        if (entry.doc && this.#workers?.wants(entry, entry.storedBytes)) this.#unloadHere(entry);
        if (!(await this.#loader.takeNews(entry))) continue;
        if (!entry.residence && !(await this.#loader.load(entry))) continue;
        const inWorker = entry.residence?.in === "worker";
        await (inWorker ? this.#rounds.inWorker(entry) : this.#rounds.onThisThread(entry));
        // Compacted once the queue is drained; what arrives meanwhile is another round of this
        // runner (the entry is busy, so no other runner starts for it).
        if (entry.inbox.length === 0 && entry.residence && entry.chunks >= this.#compactAfter) {
          await this.#tryCompact(entry);
        }
      }
    } catch (error) {
      // Unexpected (an Automerge or store failure outside the handled cases): the document's
      // memory state is suspect, so it is dropped and reloaded from the store on next use, and
      // the peers still waiting on it are told rather than left hanging.
      this.#observer.error?.(error, `syncing document ${entry.documentId}`);
      for (const peer of sendersOf(entry.inbox.splice(0))) {
        peer.fail(internalError(entry.documentId, error));
      }
      if (entry.residence) this.#forget(entry);
    } finally {
      this.#slots.release();
      entry.advance({ type: "task-ended" });
      entry.lastUsed = Date.now();
      this.#dropIfUnused(entry);
      this.#resident.enforceBudget();
    }
  }

  /**
   * Compacts after a run. A failed compaction (a full disk) changed nothing stored, being one
   * atomic batch: the document stays loaded and in sync with its chunks, and a later run or its
   * eviction tries again. Its peers were answered already; none of them is failed for it.
   */
  async #tryCompact(entry: DocumentEntry): Promise<void> {
    try {
      await this.#compact(entry);
    } catch (error) {
      this.#observer.error?.(error, `compacting document ${entry.documentId}`);
    }
  }

  /** Rewrites the snapshot and drops the chunks it covers (the document is idle meanwhile). */
  #compact(entry: DocumentEntry): Promise<void> {
    const workers = this.#workers;
    if (entry.residence?.in !== "worker" || !workers)
      return this.#resident.resizing(entry, () => this.#docs.compact(entry));
    return this.#resident.resizing(entry, async () => {
      await this.#docs.replaceChunks(entry, await workers.snapshot(entry));
    });
  }

  /** Drops the document from memory and restarts its peers' sync from nothing. */
  #forget(entry: DocumentEntry): void {
    this.#resident.remove(entry, false);
    if (entry.residence?.in === "worker") this.#workers?.unload(entry, false).catch(() => {});
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
      if (entry?.residence?.in !== "worker") continue;
      this.#resident.remove(entry);
      entry.advance({ type: "left-memory" });
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
    if (entry.phase.name !== "unloaded" || entry.inbox.length > 0 || entry.peers.size > 0) return;
    this.#entries.delete(entry.documentId);
  }

  /** Records that `peer` syncs `documentId`, so that detaching it frees its state there. */
  #joined(peer: HubPeer, documentId: string): void {
    this.#peers.get(peer.peerId)?.docs.add(documentId);
  }

  #isAttached(peer: HubPeer): boolean {
    return this.#peers.get(peer.peerId)?.peer === peer;
  }

  #track(task: Promise<void>): void {
    this.#tasks.add(task);
    void task.finally(() => this.#tasks.delete(task));
  }
}
