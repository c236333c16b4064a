// How a document's runner puts it in memory: the store's read, the admission of the peers whose
// sync would create a new document, the choice of this thread or a worker, and, with other
// nodes, a reload for their news when the document is in a worker.

import type { SynclineError } from "../protocol/errors.js";
import { createDoc, decodeSyncMessage } from "./automerge-backend.js";
import {
  type DocumentEntry,
  type HubPeer,
  isSyncJob,
  loadInto,
  restoreSyncStates,
  sendersOf,
} from "./document-entry.js";
import type { HubObserver } from "./document-hub-options.js";
import type { DocumentResidency } from "./document-residency.js";
import type { DocumentStore } from "./document-store.js";
import type { HubReplies } from "./hub-replies.js";
import type { WorkerDocuments } from "./worker-documents.js";

/** What loading needs from the hub. */
export interface LoaderHost {
  readonly docs: DocumentStore;
  readonly resident: DocumentResidency;
  readonly replies: HubReplies;
  readonly workers: WorkerDocuments | undefined;
  readonly observer: HubObserver;
  /** True when other nodes share the store (a read may then meet their compaction). */
  readonly withNodes: boolean;
}

/** Loads the hub's documents for their runners. */
export class DocumentLoader {
  readonly #host: LoaderHost;

  constructor(host: LoaderHost) {
    this.#host = host;
  }

  /**
   * Loads the document (or starts an empty one), in a worker when it is huge; false when it
   * cannot be loaded (its waiting peers are told it is unavailable).
   */
  async load(entry: DocumentEntry): Promise<boolean> {
    const { observer, replies, resident } = this.#host;
    const started = performance.now();
    let failure: unknown;
    // With other nodes, a read that met another node's compaction may miss a piece that others
    // depend on (Automerge then refuses the load): read again, that compaction is over by then.
    for (let attempt = 0; attempt < (this.#host.withNodes ? 3 : 1); attempt++) {
      try {
        if (!(await this.#loadOnce(entry))) return false;
        failure = undefined;
        break;
      } catch (error) {
        failure = error;
      }
    }
    if (failure !== undefined) {
      observer.error?.(failure, `loading document ${entry.documentId}`);
      for (const peer of sendersOf(entry.inbox.splice(0))) {
        replies.unavailable(peer, entry.documentId);
      }
      return false;
    }
    resident.add(entry);
    observer.documentLoaded?.((performance.now() - started) / 1000);
    return true;
  }

  /**
   * Readies an entry whose inbox holds other nodes' news: a document in a worker leaves it, to
   * be loaded again from the store, which holds what they stored (a worker cannot apply a piece
   * on its own). False when nothing is left to do: only news, for a document not in memory that
   * no peer syncs here (its next load reads the store).
   */
  async takeNews(entry: DocumentEntry): Promise<boolean> {
    if (entry.inbox.every(isSyncJob)) return true;
    if (entry.residence?.in === "worker") {
      this.#host.resident.remove(entry);
      await this.#host.workers?.unload(entry, true);
    }
    if (entry.residence || entry.peers.size > 0 || entry.inbox.some(isSyncJob)) return true;
    // Loaded for a peer that was told it was unavailable (another node has it now).
    if (this.#host.replies.isAwaited(entry.documentId)) return true;
    entry.inbox.splice(0);
    return false;
  }

  /** Reads and loads the document; false when there was nothing to load (its jobs answered). */
  async #loadOnce(entry: DocumentEntry): Promise<boolean> {
    const { docs, resident, replies, workers } = this.#host;
    resident.enforceBudget();
    const stored = await docs.read(entry.documentId);
    if (!stored) admitCreators(entry);
    if (!stored && !entry.inbox.some((job) => job.type === "sync")) {
      // Unknown: answered from the store's lookup alone, nothing instantiated (news of it from
      // another node is moot: it was deleted since).
      for (const peer of sendersOf(entry.inbox.splice(0))) {
        replies.unavailable(peer, entry.documentId);
      }
      return false;
    }
    if (workers?.wants(entry, stored?.bytes ?? 0)) {
      await workers.open(entry, stored);
    } else {
      const doc = stored ? docs.decode(entry.documentId, stored).doc : createDoc();
      loadInto(entry, doc, stored);
      restoreSyncStates(entry);
    }
    return true;
  }
}

/**
 * The document is new: each peer whose sync would create it is asked whether it may (its
 * address's rate limit); a refused peer's messages are dropped and its socket closed. Only a
 * sync that carries changes creates anything: a first message with heads alone leaves nothing
 * stored, and charging it too charged a document twice when the budget evicted it, still
 * empty, before its changes came (at thousands of new documents at once).
 */
function admitCreators(entry: DocumentEntry): void {
  const refused = new Map<HubPeer, SynclineError>();
  const admitted = new Set<HubPeer>();
  for (const job of entry.inbox) {
    if (job.type !== "sync" || refused.has(job.peer) || admitted.has(job.peer)) continue;
    const { peer, data } = job;
    if (!carriesChanges(data)) continue;
    const refusal = peer.admitNewDocument?.(entry.documentId);
    if (refusal) refused.set(peer, refusal);
    else admitted.add(peer);
  }
  if (refused.size === 0) return;
  const kept = entry.inbox.filter((job) => !isSyncJob(job) || !refused.has(job.peer));
  entry.inbox.splice(0, entry.inbox.length, ...kept);
  for (const [peer, error] of refused) peer.fail(error);
}

/**
 * Whether a sync message carries changes. One that cannot be decoded counts as carrying them:
 * it is charged like any other, and refused as bad sync data where it is applied.
 */
function carriesChanges(data: Uint8Array): boolean {
  try {
    return decodeSyncMessage(data).changes.length > 0;
  } catch {
    return true;
  }
}
