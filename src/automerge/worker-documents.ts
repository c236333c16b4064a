// The hub's side of documents held by a worker thread (see worker-pool.ts): a document is loaded
// there when its stored size, or a message waiting for it, exceeds the threshold, so no single
// load, receive, generate or save of a huge document runs on the main thread. The main thread
// keeps the peers, the links and every store write, so durability before any reply is the
// hub's, unchanged: the worker returns the bytes to store and the replies, and the hub sends the
// replies only once those bytes are durable.

import { encodeSyncMessage } from "@automerge/automerge";
import { decodeSyncState } from "./automerge-backend.js";
import type { HubPeer, PeerLink } from "./document-entry.js";
import { type DocumentEntry, isSyncJob, recordStored, sameHeads } from "./document-entry.js";
import type { DocumentHubOptions } from "./document-hub-options.js";
import { needsSnapshot, type StoredData } from "./document-store.js";
import { WorkerPool } from "./worker-pool.js";
import type { RoundResult, WorkerJob } from "./worker-protocol.js";

/** A job the hub accepted for a document in a worker. */
export interface AcceptedJob {
  readonly peer: HubPeer;
  readonly type: "sync" | "request";
  readonly data: Uint8Array;
}

/** A round's outcome, by link; the hub stores `write`, then sends `replies`. */
export interface WorkerRound {
  /** Links whose message was applied (the senders to fail when the write fails). */
  readonly touched: Set<PeerLink>;
  readonly unavailable: HubPeer[];
  readonly bad: [HubPeer, string][];
  readonly write: Uint8Array | null;
  readonly heads: string[];
  readonly replies: [PeerLink, Uint8Array[]][];
}

/** Documents in worker threads, as the hub drives them. */
export class WorkerDocuments {
  readonly #pool: WorkerPool;
  /** Stored or message bytes above which a document goes to a worker. */
  readonly threshold: number;
  /** Per document reloaded for other nodes' news: its peers' shared heads (see `announcements`). */
  readonly #reloaded = new WeakMap<DocumentEntry, [PeerLink, string[]][]>();

  constructor(pool: WorkerPool, threshold: number) {
    this.#pool = pool;
    this.threshold = threshold;
  }

  /** Worker threads running now. */
  get threads(): number {
    return this.#pool.workers;
  }

  /** True when `entry` (stored as `storedBytes`) belongs in a worker now. */
  wants(entry: DocumentEntry, storedBytes: number): boolean {
    return (
      storedBytes > this.threshold ||
      entry.inbox.some((job) => "data" in job && job.data.length > this.threshold)
    );
  }

  /** Loads the document (stored, or new) in a worker, with its peers' saved sync states. */
  async open(entry: DocumentEntry, stored: StoredData | undefined): Promise<void> {
    const data = stored ? ownCopy(stored.data) : null;
    const peers: [string, Uint8Array | null][] = [];
    for (const [peerId, link] of entry.peers) peers.push([peerId, link.encoded ?? null]);
    const before = entry.savedHeads;
    const shared = entry.inbox.some((job) => !isSyncJob(job)) ? sharedHeadsOf(entry) : [];
    let heads: string[];
    try {
      heads = await this.#pool.request<string[]>(
        { op: "open", doc: entry.documentId, data, peers },
        data ? [data.buffer as ArrayBuffer] : [],
      );
    } catch (error) {
      this.#pool.release(entry.documentId); // not loaded there: the worker may retire
      throw error;
    }
    for (const link of entry.peers.values()) link.encoded = undefined;
    entry.advance({ type: "loaded", residence: { in: "worker" } });
    recordStored(entry, heads, stored);
    if (shared.length > 0 && !sameHeads(before, heads)) this.#reloaded.set(entry, shared);
  }

  /**
   * Jobs that make the worker answer every peer of a document reloaded for other nodes' news
   * (once; none when the reload changed nothing). The worker answers only the peers whose message
   * it received, or all when a round moved the heads, and a reload moves none: so each peer is
   * given a message that says no more than its sync state did before the reload, that it has the
   * shared heads (no changes, no needs, no bloom filter). Automerge then answers with the new
   * heads, and the peer asks for what it lacks, as after any reload of a sync state.
   */
  announcements(entry: DocumentEntry): AcceptedJob[] {
    const shared = this.#reloaded.get(entry) ?? [];
    this.#reloaded.delete(entry);
    return shared
      .filter(([link]) => entry.peers.get(link.peer.peerId) === link)
      .map(([link, heads]) => ({
        peer: link.peer,
        type: "sync" as const,
        data: encodeSyncMessage({ heads, need: [], have: [], changes: [] }),
      }));
  }

  /**
   * Applies `jobs` in the worker and gets what to store and to send; `join` names peers that
   * start syncing the document now (a fresh sync state each, unless the worker has one).
   */
  async round(
    entry: DocumentEntry,
    jobs: readonly AcceptedJob[],
    maxReplies: number,
    join: readonly string[] = [],
  ) {
    const sent: WorkerJob[] = [];
    const links: PeerLink[] = [];
    const created = new Set<PeerLink>();
    const transfer: ArrayBuffer[] = [];
    for (const job of jobs) {
      let link = entry.peers.get(job.peer.peerId);
      const reset = !link || link.peer !== job.peer;
      if (!link || reset) {
        link = { peer: job.peer, state: undefined, encoded: undefined };
        entry.peers.set(job.peer.peerId, link);
        created.add(link);
      }
      const data = ownCopy(job.data);
      transfer.push(data.buffer as ArrayBuffer);
      sent.push({ peer: job.peer.peerId, reset, type: job.type, data });
      links.push(link);
    }
    const result = await this.#pool.request<RoundResult>(
      {
        op: "round",
        doc: entry.documentId,
        jobs: sent,
        join,
        snapshot: needsSnapshot(entry),
        maxReplies,
      },
      transfer,
    );
    const round: WorkerRound = {
      touched: new Set(),
      unavailable: [],
      bad: [],
      write: result.write,
      heads: result.heads,
      replies: [],
    };
    for (const [index, status] of result.statuses.entries()) {
      const link = links[index] as PeerLink;
      if (status === null) round.touched.add(link);
      else if (status === "unavailable") round.unavailable.push(link.peer);
      else round.bad.push([link.peer, status]);
      // As on this thread, a peer whose first message was refused gets no link.
      if (status !== null && created.has(link) && entry.peers.get(link.peer.peerId) === link) {
        entry.peers.delete(link.peer.peerId);
      }
    }
    for (const [peerId, messages] of result.replies) {
      const link = entry.peers.get(peerId);
      if (link) round.replies.push([link, messages]);
    }
    return round;
  }

  /** A snapshot of the document, for compaction. */
  snapshot(entry: DocumentEntry): Promise<Uint8Array> {
    return this.#pool.request<Uint8Array>({ op: "compact", doc: entry.documentId });
  }

  /** Forgets one peer's sync state (the peer left). */
  dropPeer(entry: DocumentEntry, peerId: string): void {
    this.#pool.request({ op: "drop", doc: entry.documentId, peer: peerId }).catch(() => {});
  }

  /**
   * Frees the document in its worker; with `keep`, each link keeps its sync state's encoding,
   * as unloadEntry does on this thread. Without, the peers restart their sync from nothing.
   */
  async unload(entry: DocumentEntry, keep: boolean): Promise<void> {
    entry.advance({ type: "left-memory" });
    for (const link of entry.peers.values()) link.encoded = undefined;
    const closing = this.#pool.request<[string, Uint8Array][]>({
      op: "close",
      doc: entry.documentId,
      keep,
    });
    // Released at once: a reload of the document may be placed on any worker meanwhile.
    this.#pool.release(entry.documentId);
    for (const [peerId, encoded] of (await closing) ?? []) {
      const link = entry.peers.get(peerId);
      if (link && !link.state) link.encoded = encoded;
    }
  }

  /** Terminates the workers (after the hub's last flush). */
  close(): Promise<void> {
    return this.#pool.close();
  }
}

/** The shared heads of each peer's saved sync state (peers that share none are left out). */
function sharedHeadsOf(entry: DocumentEntry): [PeerLink, string[]][] {
  const shared: [PeerLink, string[]][] = [];
  for (const link of entry.peers.values()) {
    if (!link.encoded) continue;
    const state = decodeSyncState(link.encoded);
    const heads = state.sharedHeads;
    state.free();
    if (heads.length > 0) shared.push([link, heads]);
  }
  return shared;
}

/** The hub's worker documents as its settings ask; undefined with no worker threads. */
export function createWorkerDocuments(
  options: DocumentHubOptions,
  onLost: (documents: readonly string[], error: Error) => void,
): WorkerDocuments | undefined {
  const size = options.settings.automergeWorkerThreads;
  if (size <= 0) return undefined;
  const pool = new WorkerPool({
    size,
    idleMs: options.workerIdleMs ?? 5000,
    script: options.workerScript,
    onLost,
  });
  return new WorkerDocuments(pool, options.settings.automergeWorkerThreshold);
}

/**
 * A copy of `bytes` owning its whole buffer, so the buffer can be moved, not cloned, to a worker.
 * Never `bytes.slice()`: on a Node Buffer (what `ws` and cbor-x hand us) slice is a view, and
 * moving its buffer would detach the memory it shares — for a small message, Node's 8 KiB pool
 * slab, emptying the other sockets' messages cut from it.
 */
export function ownCopy(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}
