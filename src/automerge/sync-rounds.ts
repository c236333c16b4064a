// One round of a document's queue: receive every waiting message, make the result durable in one
// write, and only then reply (hub-replies.ts). On this thread, or in a worker for a huge document
// (worker-documents.ts); either way the write comes before any reply, and a failed write is never
// acknowledged.

import { setImmediate as nextTurn } from "node:timers/promises";
import { type DocBackend, initSyncState } from "./automerge-backend.js";
import {
  type DocumentEntry,
  type HubPeer,
  isSyncJob,
  type NodeJob,
  type PeerLink,
  type SyncJob,
} from "./document-entry.js";
import type { HubObserver } from "./document-hub-options.js";
import type { DocumentResidency } from "./document-residency.js";
import type { DocumentStore } from "./document-store.js";
import { answers } from "./fresh-answer.js";
import { badSyncData, documentTooLarge, notSaved } from "./hub-errors.js";
import { type HubReplies, maxRepliesPerRound } from "./hub-replies.js";
import { catchUp } from "./node-catch-up.js";
import type { AcceptedJob, WorkerDocuments } from "./worker-documents.js";

/** What a round needs from the hub. */
export interface RoundHost {
  readonly docs: DocumentStore;
  readonly resident: DocumentResidency;
  readonly replies: HubReplies;
  /** Undefined when every document stays on this thread. */
  readonly workers: WorkerDocuments | undefined;
  readonly observer: HubObserver;
  /** Largest document, stored bytes. */
  readonly maxDocumentBytes: number;
  /** True while `peer` is the socket bound to its peer id. */
  isAttached(peer: HubPeer): boolean;
  /** Drops the document from memory and restarts its peers' sync from nothing. */
  forget(entry: DocumentEntry): void;
}

/** The sync rounds of a hub's documents. */
export class SyncRounds {
  readonly #host: RoundHost;

  constructor(host: RoundHost) {
    this.#host = host;
  }

  /**
   * Applies what other nodes stored (durable already), then receives every queued message
   * (yielding to the event loop between them, so one busy or huge document never holds up the
   * others for more than one message), makes the result durable in one write, and only then
   * replies: to the senders, and to every other peer of the document when its heads moved or
   * other nodes' news came (a peer with nothing to hear is sent nothing).
   */
  async onThisThread(entry: DocumentEntry): Promise<void> {
    const { resident, replies, docs, observer } = this.#host;
    resident.touch(entry);
    const inbox = entry.inbox.splice(0);
    const news = inbox.filter((job): job is NodeJob => !isSyncJob(job));
    if (news.length > 0) await resident.resizing(entry, () => catchUp(entry, news, docs, observer));
    const touched = new Set<PeerLink>();
    for (const [index, job] of inbox.filter(isSyncJob).entries()) {
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
    const everyone = moved || news.length > 0;
    if (everyone && (entry.doc as DocBackend).getHeads().length > 0) replies.admitAwaiting(entry);
    const links = everyone ? [...entry.peers.values()] : [...touched];
    for (const link of links) replies.reply(entry, link, !moved);
  }

  /**
   * A round of a document in a worker, like onThisThread: the worker receives the messages and
   * makes the bytes to store and the replies; the replies go out once those bytes are durable.
   * Other nodes' news was applied by reloading the document from the store (the hub does, before
   * this round): its peers are then told, in a round of their own.
   */
  async inWorker(entry: DocumentEntry): Promise<void> {
    const { resident, replies } = this.#host;
    resident.touch(entry);
    const inbox = entry.inbox.splice(0);
    const workers = this.#host.workers as WorkerDocuments;
    if (inbox.some((job) => !isSyncJob(job))) {
      const told = workers.announcements(entry);
      if (told.length > 0 && !(await this.#workerRound(entry, told, []))) return;
    }
    const sent = inbox.filter(isSyncJob);
    if (sent.length === 0) return;
    const jobs = sent.filter((job) => this.#accepts(entry, job));
    // Peers told the document was unavailable join it now, before the heads can move: the
    // worker only knows the heads moved once it has applied this round, and then replies to
    // every peer it holds a state for. (Until content arrives they just wait as its peers.)
    const joining = replies.admitAwaiting(entry, true);
    await this.#workerRound(entry, jobs, joining);
  }

  /** One round in the worker: store what it made, then send its replies; false when discarded. */
  async #workerRound(
    entry: DocumentEntry,
    jobs: readonly AcceptedJob[],
    joining: readonly string[],
  ): Promise<boolean> {
    const { resident, replies, docs } = this.#host;
    const workers = this.#host.workers as WorkerDocuments;
    const round = await workers.round(entry, jobs, maxRepliesPerRound, joining);
    for (const peer of round.unavailable) replies.unavailable(peer, entry.documentId);
    for (const [peer, text] of round.bad) peer.fail(badSyncData(entry.documentId, new Error(text)));
    const { write, heads } = round;
    try {
      if (write) await resident.resizing(entry, () => docs.saveBytes(entry, write, heads));
    } catch (error) {
      this.#discard(entry, round.touched, error);
      return false;
    }
    for (const [link, messages] of round.replies) replies.send(entry, link, messages);
    return true;
  }

  /** Applies one message; returns the sender's link, or undefined when nothing applies. */
  #receive(entry: DocumentEntry, job: SyncJob) {
    const { peer } = job;
    const doc = entry.doc as DocBackend;
    if (!this.#accepts(entry, job)) return undefined;
    if (job.type === "request" && doc.getHeads().length === 0) {
      this.#host.replies.unavailable(peer, entry.documentId);
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
        this.#host.observer.freshAnswerReused?.();
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
    if (!this.#host.isAttached(job.peer)) return false;
    const max = this.#host.maxDocumentBytes;
    // The message's size bounds what it can add (changes travel compressed at most as stored).
    if (entry.storedBytes + job.data.length <= max) return true;
    job.peer.fail(documentTooLarge(entry.documentId, max));
    return false;
  }

  /** Appends what changed since the last durable heads; true when the heads moved. */
  #persist(entry: DocumentEntry): Promise<boolean> {
    const { resident, docs } = this.#host;
    return resident.resizing(entry, () => docs.saveChanges(entry));
  }

  /**
   * A write failed: what was received is not durable and must never be acknowledged. The
   * senders' sockets are closed and the document is dropped from memory, so the next use loads
   * what the store really holds; every peer of it starts its sync afresh.
   */
  #discard(entry: DocumentEntry, senders: Set<PeerLink>, cause: unknown): void {
    this.#host.observer.error?.(cause, `saving document ${entry.documentId}`);
    for (const link of senders) link.peer.fail(notSaved(entry.documentId, cause));
    this.#host.forget(entry);
  }
}
