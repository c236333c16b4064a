// Deleting documents: through the admin API on this node, and as another node did (its delete
// reaches this one on the bus, document-nodes.ts). Either way the document's waiting messages
// are dropped, the task holding it finishes, every peer syncing it here is closed (4410), and it
// leaves memory; while that runs, a message for it closes its sender's socket too.

import type { DocumentEntry } from "./document-entry.js";
import { sendersOf } from "./document-entry.js";
import type { HubObserver } from "./document-hub-options.js";
import type { DocumentNodes } from "./document-nodes.js";
import type { DocumentStore } from "./document-store.js";
import { documentDeleted } from "./hub-errors.js";

/** What deleting needs from the hub. */
export interface DeletesHost {
  readonly docs: DocumentStore;
  readonly observer: HubObserver;
  /** The other nodes, told of a delete made here (undefined: this node is alone). */
  readonly nodes: DocumentNodes | undefined;
  /** The document's entry, if the hub has one. */
  entry(documentId: string): DocumentEntry | undefined;
  /** Drops the document from memory and restarts its peers' sync from nothing. */
  forget(entry: DocumentEntry): void;
  /** Forgets the entry if nothing uses it any more. */
  dropIfUnused(entry: DocumentEntry): void;
}

/** The hub's deletes, and the documents being deleted now. */
export class DocumentDeletes {
  readonly #host: DeletesHost;
  readonly #deleting = new Set<string>();

  constructor(host: DeletesHost) {
    this.#host = host;
  }

  /** True while the document is being deleted (a message for it closes its sender). */
  has(documentId: string): boolean {
    return this.#deleting.has(documentId);
  }

  /**
   * Deletes a document (the admin API): it leaves memory and its keys the store, and the other
   * nodes are told. False when neither the store nor memory had it.
   */
  async remove(documentId: string): Promise<boolean> {
    if (this.#deleting.has(documentId)) return false;
    const { docs, nodes } = this.#host;
    this.#deleting.add(documentId);
    try {
      const entry = this.#host.entry(documentId);
      const existed = entry?.residence !== undefined || (await docs.exists(documentId));
      if (entry) await this.#close(entry);
      await docs.remove(documentId);
      nodes?.deleted(documentId);
      return existed;
    } finally {
      this.#deleting.delete(documentId);
    }
  }

  /** Another node deleted the document: its peers here are closed too. */
  async deletedElsewhere(documentId: string): Promise<void> {
    const entry = this.#host.entry(documentId);
    if (!entry || this.#deleting.has(documentId)) return;
    this.#deleting.add(documentId);
    try {
      await this.#close(entry);
      // A write of this node may have landed after that node's delete: it goes too, else the
      // store would keep a piece whose changes miss what they depend on (a document no load
      // accepts).
      await this.#host.docs.remove(documentId);
    } catch (error) {
      this.#host.observer.error?.(error, `deleting document ${documentId} as another node did`);
    } finally {
      this.#deleting.delete(documentId);
    }
  }

  async #close(entry: DocumentEntry): Promise<void> {
    const peers = sendersOf(entry.inbox.splice(0));
    while (entry.busy) await new Promise((resolve) => setTimeout(resolve, 5));
    for (const link of entry.peers.values()) peers.add(link.peer);
    for (const peer of peers) peer.fail(documentDeleted(entry.documentId));
    if (entry.residence) this.#host.forget(entry);
    this.#host.dropIfUnused(entry);
  }
}
