// Peers told `doc-unavailable`, remembered so they hear of the document once it appears: a
// client that asked for a document before its author's first sync reached the server is sent a
// sync message for it as soon as that sync is durable, as the reference server does (its
// DocSynchronizer keeps such a peer among the document's peers, status "wants"). Bounded: past
// `maxEntries` (document, peer) pairs in all, or `maxPerPeer` for one peer (so that one client
// asking for many missing documents cannot use up the room of the others), new ones are not
// remembered, and those peers are simply not told, as before.

import type { HubPeer } from "./document-entry.js";

/** Who is waiting for which document. */
export class AwaitingPeers {
  readonly #byDocument = new Map<string, Set<HubPeer>>();
  readonly #byPeer = new Map<HubPeer, Set<string>>();
  #entries = 0;

  constructor(
    private readonly maxEntries = 100_000,
    private readonly maxPerPeer = 1_000,
  ) {}

  /** (document, peer) pairs remembered now. */
  get size(): number {
    return this.#entries;
  }

  /** `peer` was told `documentId` is unavailable. */
  add(documentId: string, peer: HubPeer): void {
    let peers = this.#byDocument.get(documentId);
    if (peers?.has(peer) || this.#entries >= this.maxEntries) return;
    if ((this.#byPeer.get(peer)?.size ?? 0) >= this.maxPerPeer) return;
    if (!peers) {
      peers = new Set();
      this.#byDocument.set(documentId, peers);
    }
    peers.add(peer);
    let documents = this.#byPeer.get(peer);
    if (!documents) {
      documents = new Set();
      this.#byPeer.set(peer, documents);
    }
    documents.add(documentId);
    this.#entries++;
  }

  /** True when some peer waits for `documentId`. */
  has(documentId: string): boolean {
    return this.#byDocument.has(documentId);
  }

  /** The peers waiting for `documentId`, forgotten as they are handed over. */
  take(documentId: string): HubPeer[] {
    const peers = this.#byDocument.get(documentId);
    if (!peers) return [];
    this.#byDocument.delete(documentId);
    for (const peer of peers) this.#forgetPair(peer, documentId);
    return [...peers];
  }

  /** Forgets everything `peer` waits for (it left). */
  forget(peer: HubPeer): void {
    const documents = this.#byPeer.get(peer);
    if (!documents) return;
    this.#byPeer.delete(peer);
    for (const documentId of documents) {
      const peers = this.#byDocument.get(documentId);
      peers?.delete(peer);
      if (peers?.size === 0) this.#byDocument.delete(documentId);
      this.#entries--;
    }
  }

  #forgetPair(peer: HubPeer, documentId: string): void {
    const documents = this.#byPeer.get(peer);
    if (!documents?.delete(documentId)) return;
    if (documents.size === 0) this.#byPeer.delete(peer);
    this.#entries--;
  }
}
