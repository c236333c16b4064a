// What the hub sends its peers about documents: sync replies (only ever after the round's write
// is durable; the rounds decide when), `doc-unavailable`, and the peers told so, who become a
// document's peers once it appears (awaiting-peers.ts).

import { initSyncState } from "./automerge-backend.js";
import { AwaitingPeers } from "./awaiting-peers.js";
import type { DocumentEntry, HubPeer, PeerLink } from "./document-entry.js";
import type { HubObserver } from "./document-hub-options.js";
import { takeReplies } from "./fresh-answer.js";

/** Largest number of messages generated for one peer in one round. */
export const maxRepliesPerRound = 8;

/** What sending needs from the hub. */
export interface RepliesHost {
  /** The senderId of everything the server sends. */
  readonly serverPeerId: string;
  readonly observer: HubObserver;
  /** True while `peer` is the socket bound to its peer id (a replaced socket hears nothing). */
  isAttached(peer: HubPeer): boolean;
  /** `peer` now syncs `documentId`: detaching it must free its sync state there. */
  joined(peer: HubPeer, documentId: string): void;
}

/** The hub's outgoing messages to peers. */
export class HubReplies {
  readonly #host: RepliesHost;
  /** Peers told a document is unavailable, to be told when it appears (awaiting-peers.ts). */
  readonly #awaiting = new AwaitingPeers();

  constructor(host: RepliesHost) {
    this.#host = host;
  }

  /** Sends `link` what Automerge has for it; `cacheable` when the heads did not move this round. */
  reply(entry: DocumentEntry, link: PeerLink, cacheable: boolean): void {
    if (!this.#host.isAttached(link.peer) || !link.state) return;
    this.send(entry, link, takeReplies(entry, link, cacheable, maxRepliesPerRound));
  }

  /** Sends `link` these sync messages (made by a worker, or by reply()). */
  send(entry: DocumentEntry, link: PeerLink, replies: readonly Uint8Array[]): void {
    if (!this.#host.isAttached(link.peer)) return;
    for (const data of replies) {
      this.#host.observer.syncOut?.(data.length);
      link.peer.send({
        type: "sync",
        senderId: this.#host.serverPeerId,
        targetId: link.peer.peerId,
        documentId: entry.documentId,
        data,
      });
    }
  }

  /** Tells `peer` the server has nothing of `documentId`, and remembers it is waiting. */
  unavailable(peer: HubPeer, documentId: string): void {
    if (!this.#host.isAttached(peer)) return;
    this.#awaiting.add(documentId, peer);
    peer.send({
      type: "doc-unavailable",
      senderId: this.#host.serverPeerId,
      targetId: peer.peerId,
      documentId,
    });
  }

  /**
   * The document has content now: the peers told it was unavailable become its peers, with a
   * fresh sync state, so this round's replies (to every peer, as the heads moved) reach them.
   * For a document held in a worker (`inWorker`) the sync states live there: the links get none
   * here, and the returned peer ids are the ones the worker must start states for.
   */
  admitAwaiting(entry: DocumentEntry, inWorker = false): string[] {
    const admitted: string[] = [];
    for (const peer of this.#awaiting.take(entry.documentId)) {
      if (!this.#host.isAttached(peer) || entry.peers.has(peer.peerId)) continue;
      const state = inWorker ? undefined : initSyncState();
      entry.peers.set(peer.peerId, { peer, state, encoded: undefined });
      this.#host.joined(peer, entry.documentId);
      admitted.push(peer.peerId);
    }
    return admitted;
  }

  /** True when a peer was told `documentId` is unavailable and waits for it. */
  isAwaited(documentId: string): boolean {
    return this.#awaiting.has(documentId);
  }

  /** Forgets every document `peer` waits for (it left). */
  forget(peer: HubPeer): void {
    this.#awaiting.forget(peer);
  }
}
