// Ephemeral messages (presence, cursors) are relayed to a document's other peers and never
// stored; each (sender, session, count) is relayed once, as automerge-repo's network layer
// dedupes them.

import type { EphemeralMessage } from "../protocol/automerge-messages.js";
import type { PeerLink } from "./document-entry.js";

/** Remembers the last count relayed per sender and session. */
export class EphemeralRelay {
  readonly #seen = new Map<string, number>();

  /** Sends `message` to every peer in `peers` but its author; false when it was a duplicate. */
  relay(message: EphemeralMessage, peers: ReadonlyMap<string, PeerLink> | undefined): boolean {
    const key = `${message.senderId}\u0000${message.sessionId}`;
    const last = this.#seen.get(key);
    if (last !== undefined && message.count <= last) return false;
    this.#seen.set(key, message.count);
    for (const [peerId, link] of peers ?? []) {
      if (peerId !== message.senderId) link.peer.send({ ...message, targetId: peerId });
    }
    return true;
  }

  /** Forgets a sender's sessions (it disconnected). */
  forget(senderId: string): void {
    const prefix = `${senderId}\u0000`;
    for (const key of this.#seen.keys()) if (key.startsWith(prefix)) this.#seen.delete(key);
  }
}
