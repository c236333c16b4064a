// One document as the hub tracks it: its peers and their sync states, its phase (where the
// Automerge document is, which task holds it), what is durable, and the inbox of messages
// waiting for it.

import type { RepoMessage } from "../protocol/automerge-messages.js";
import type { SynclineError } from "../protocol/errors.js";
import {
  type DocBackend,
  decodeSyncState,
  encodeSyncState,
  initSyncState,
  type PeerSyncState,
} from "./automerge-backend.js";
import {
  advancePhase,
  type DocumentPhase,
  type PhaseEvent,
  type Residence,
  residenceOf,
} from "./document-phase.js";
import type { FreshAnswer } from "./fresh-answer.js";

/** A connected peer as the hub sees it; the session behind it owns the socket. */
export interface HubPeer {
  /** The peer id the socket joined with. */
  readonly peerId: string;
  /** Sends one message to this peer. */
  send(message: RepoMessage): void;
  /**
   * Whether `bytes` more may be queued for this peer now (its output is within budget). Asked
   * before what may be dropped (ephemeral messages); what must be sent is sent regardless.
   */
  admits(bytes: number): boolean;
  /** Ends this peer's socket because of what it sent (the error's closeCode says how). */
  fail(error: SynclineError): void;
  /** Whether this peer may create `documentId` (new to the server): undefined, or the refusal. */
  admitNewDocument?(documentId: string): SynclineError | undefined;
}

/** A peer syncing a document: a live sync state while loaded, its encoding while evicted. */
export interface PeerLink {
  readonly peer: HubPeer;
  state: PeerSyncState | undefined;
  encoded: Uint8Array | undefined;
  /** Replies taken from the fresh-peer cache, sent with the next reply. */
  cached?: readonly Uint8Array[] | undefined;
  /** This link's first message, while its answer may become the fresh-peer cache. */
  firstMessage?: Uint8Array | undefined;
}

/** A `request` or `sync` waiting for its document. */
export interface SyncJob {
  readonly peer: HubPeer;
  readonly type: "sync" | "request";
  readonly data: Uint8Array;
}

/**
 * News from another node, waiting for the document like a peer's message (document-nodes.ts):
 * `stored`, a piece that node made durable (its name and bytes); `refresh`, read the pieces of
 * the store this document does not include yet (the bus may have lost some).
 */
export type NodeJob =
  | { readonly type: "stored"; readonly name: string; readonly data: Uint8Array }
  | { readonly type: "refresh" };

/** What waits in a document's inbox, applied in arrival order by its runner. */
export type InboxJob = SyncJob | NodeJob;

/** True for a peer's message (it has a sender to answer or fail). */
export function isSyncJob(job: InboxJob): job is SyncJob {
  return job.type === "sync" || job.type === "request";
}

/** The peers of the messages among `jobs`. */
export function sendersOf(jobs: readonly InboxJob[]): Set<HubPeer> {
  return new Set(jobs.filter(isSyncJob).map((job) => job.peer));
}

/**
 * The hub's record of one document. Its phase (document-phase.ts) says where the document is
 * and which task holds it; it changes only through `advance`, which refuses an illegal move.
 */
export class DocumentEntry {
  readonly documentId: string;
  /** Heads durable in the store. */
  savedHeads: string[] = [];
  /** Bytes of the stored pieces below, and how many a compaction would fold (all but one). */
  storedBytes = 0;
  chunks = 0;
  /**
   * The names of the stored pieces (document-store.ts) whose changes the document in memory
   * includes: loaded, written by this node, or applied from another node's news. A compaction
   * deletes these and no other, so a piece no node has applied is never lost.
   */
  readonly storedKeys = new Set<string>();
  readonly peers = new Map<string, PeerLink>();
  readonly inbox: InboxJob[] = [];
  /** The answer to a fresh peer while the heads stay the same (see fresh-answer.ts). */
  fresh: FreshAnswer | undefined = undefined;
  lastUsed = Date.now();
  #phase: DocumentPhase = { name: "unloaded" };

  constructor(documentId: string) {
    this.documentId = documentId;
  }

  get phase(): DocumentPhase {
    return this.#phase;
  }

  /** Moves to the phase that follows `event`; throws ERR_UNEXPECTED when none may. */
  advance(event: PhaseEvent): void {
    this.#phase = advancePhase(this.documentId, this.#phase, event);
  }

  /** Where the document is in memory; undefined when it is not. */
  get residence(): Residence | undefined {
    return residenceOf(this.#phase);
  }

  /** The document when it is loaded on this thread. */
  get doc(): DocBackend | undefined {
    const residence = this.residence;
    return residence?.in === "thread" ? residence.doc : undefined;
  }

  /** Puts `doc` on this thread without a hub task (see the `doc-installed` event). */
  set doc(doc: DocBackend) {
    this.advance({ type: "doc-installed", doc });
  }

  /** True while a task (its runner, or an eviction) holds the entry. */
  get busy(): boolean {
    const { name } = this.#phase;
    return name === "loading" || name === "syncing" || name === "evicting";
  }
}

/** A fresh entry for a document not loaded yet. */
export function createEntry(documentId: string): DocumentEntry {
  return new DocumentEntry(documentId);
}

/** What the store returned for a document (see DocumentStore.load). */
export interface StoredParts {
  readonly bytes: number;
  readonly chunks: number;
  /** The names of the pieces read. */
  readonly keys: readonly string[];
}

/** Installs a loaded (or new, when `stored` is undefined) document in the entry. */
export function loadInto(
  entry: DocumentEntry,
  doc: DocBackend,
  stored: StoredParts | undefined,
): void {
  entry.advance({ type: "loaded", residence: { in: "thread", doc } });
  recordStored(entry, doc.getHeads(), stored);
}

/** Records what is durable of a document just loaded (here or in a worker) with these heads. */
export function recordStored(
  entry: DocumentEntry,
  heads: string[],
  stored: StoredParts | undefined,
): void {
  entry.savedHeads = heads;
  entry.storedBytes = stored?.bytes ?? 0;
  entry.chunks = stored?.chunks ?? 0;
  entry.storedKeys.clear();
  for (const name of stored?.keys ?? []) entry.storedKeys.add(name);
}

/** Records a stored piece of `bytes` the document includes now (written, or applied). */
export function recordPiece(entry: DocumentEntry, name: string, bytes: number): void {
  if (entry.storedKeys.has(name)) return;
  if (entry.storedKeys.size > 0) entry.chunks += 1;
  entry.storedKeys.add(name);
  entry.storedBytes += bytes;
}

/** Gives every link a live sync state (after a load), decoding the saved ones. */
export function restoreSyncStates(entry: DocumentEntry): void {
  for (const link of entry.peers.values()) {
    if (link.state) continue;
    link.state = link.encoded ? decodeSyncState(link.encoded) : initSyncState();
    link.encoded = undefined;
  }
}

/**
 * Keeps only what a sync state needs to resume (the shared heads) and frees the document's
 * memory. A resumed peer costs one extra round trip at most, never a resend of what it has.
 */
export function unloadEntry(entry: DocumentEntry): void {
  for (const link of entry.peers.values()) {
    if (link.state) {
      link.encoded = encodeSyncState(link.state);
      link.state.free();
    }
    link.state = undefined;
  }
  const doc = entry.doc;
  if (entry.residence) entry.advance({ type: "left-memory" });
  doc?.free();
  entry.fresh?.state.free();
  entry.fresh = undefined;
}

/** A rough figure for the memory a loaded document takes: the WASM heap holds it expanded. */
export function estimateMemory(entry: DocumentEntry): number {
  return entry.residence ? 32 * 1024 + entry.storedBytes * 8 : 0;
}

/** True when two head lists name the same hashes (Automerge returns them sorted). */
export function sameHeads(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((hash, index) => hash === b[index]);
}
