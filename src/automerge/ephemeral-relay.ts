// Ephemeral messages (presence, cursors) are relayed to a document's other peers and never
// stored. They are best effort, as automerge-repo treats them (no acknowledgement, no resend),
// so the relay drops rather than queues: a frame above the size limit, one whose session id is
// too long to be real, and the copy for a peer whose output is over budget (it does not read
// fast enough; queuing for it is how a non-reader would pin the server's memory). Each (sender,
// session, count) is relayed once, as automerge-repo's network layer dedupes them; what that
// takes to remember is bounded (ephemeral-sessions.ts). Messages relayed by other nodes
// (document-nodes.ts) go through the same rules, their author counted as a sender of its own
// per node, so a message that reaches this node twice is still relayed once.

import type { EphemeralMessage } from "../protocol/automerge-messages.js";
import type { HubPeer, PeerLink } from "./document-entry.js";
import type { EphemeralDropReason, HubObserver } from "./document-hub-options.js";
import { EphemeralSessions, type SessionLimits, sessionLimits } from "./ephemeral-sessions.js";

/** Options of the relay. */
export interface EphemeralRelayOptions {
  /** Largest ephemeral frame relayed, bytes (the `automergeMaxEphemeralBytes` setting). */
  readonly maxBytes: number;
  readonly observer: HubObserver;
  /** The dedupe map's bounds (tests shrink them). */
  readonly limits?: SessionLimits;
  readonly now?: () => number;
}

/**
 * The author of messages another node relayed, standing for it in the dedupe map (which keys
 * senders by object): one per (node, peer id), kept while it has sessions there at most.
 */
export interface NodeSender {
  readonly key: string;
  seenAt: number;
}

/** Relays ephemeral messages, each once, to the peers that read. */
export class EphemeralRelay {
  readonly #maxBytes: number;
  readonly #observer: HubObserver;
  readonly #limits: SessionLimits;
  readonly #now: () => number;
  readonly #sessions: EphemeralSessions<HubPeer | NodeSender>;
  /** Authors on other nodes, least recently seen first. */
  readonly #nodeSenders = new Map<string, NodeSender>();

  constructor(options: EphemeralRelayOptions) {
    this.#maxBytes = options.maxBytes;
    this.#observer = options.observer;
    this.#limits = options.limits ?? sessionLimits;
    this.#now = options.now ?? Date.now;
    this.#sessions = new EphemeralSessions(this.#limits, this.#now);
  }

  /**
   * Relays `message`, which node `from` relayed to its own peers already, to the peers here, by
   * the same rules as `relay`.
   */
  relayFromNode(
    from: string,
    message: EphemeralMessage,
    bytes: number,
    peers: ReadonlyMap<string, PeerLink> | undefined,
  ): boolean {
    return this.relay(this.#nodeSender(from, message.senderId), message, bytes, peers);
  }

  /**
   * Sends `message` (a frame of `bytes` from `sender`) to every peer in `peers` but its author
   * whose output admits it; false when it was not relayed at all (too large, refused, duplicate).
   */
  relay(
    sender: HubPeer | NodeSender,
    message: EphemeralMessage,
    bytes: number,
    peers: ReadonlyMap<string, PeerLink> | undefined,
  ): boolean {
    if (bytes > this.#maxBytes) return this.#dropped("too-large");
    const verdict = this.#sessions.see(sender, message.sessionId, message.count);
    this.#observer.ephemeralSessions?.(this.#sessions.size, this.#sessions.bytes);
    if (verdict === "refused") return this.#dropped("session-id");
    if (verdict === "duplicate") return false;
    for (const [peerId, link] of peers ?? []) {
      if (link.peer === sender || peerId === message.senderId) continue;
      // The copy differs from what was received only in its targetId.
      if (link.peer.admits(bytes + peerId.length)) link.peer.send({ ...message, targetId: peerId });
      else this.#dropped("slow-peer");
    }
    return true;
  }

  /** Forgets a sender's sessions (it left). */
  forget(sender: HubPeer): void {
    this.#sessions.forget(sender);
    this.#observer.ephemeralSessions?.(this.#sessions.size, this.#sessions.bytes);
  }

  /**
   * The stand-in for `senderId` on node `from`. Those unseen for the dedupe's time to live are
   * forgotten (their sessions expired with it), and the oldest beyond the map's entry bound.
   */
  #nodeSender(from: string, senderId: string): NodeSender {
    const key = `${from}\u0000${senderId}`;
    const now = this.#now();
    for (const [oldKey, old] of this.#nodeSenders) {
      const expired = now - old.seenAt >= this.#limits.ttlMs;
      if (!expired && this.#nodeSenders.size < this.#limits.totalEntries) break;
      if (oldKey === key) break;
      this.#nodeSenders.delete(oldKey);
      this.#sessions.forget(old);
    }
    const sender = this.#nodeSenders.get(key) ?? { key, seenAt: now };
    sender.seenAt = now;
    this.#nodeSenders.delete(key);
    this.#nodeSenders.set(key, sender);
    return sender;
  }

  #dropped(reason: EphemeralDropReason): false {
    this.#observer.ephemeralDropped?.(reason);
    return false;
  }
}
