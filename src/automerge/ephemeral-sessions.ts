// What the ephemeral relay remembers to relay each message once: the last count relayed per
// (sender, session), as automerge-repo's network layer keeps it, but bounded, since every entry
// is chosen by a client. A session id longer than any real one is refused, not stored; past a
// sender's share (entries or bytes), or the whole map's, the least recently used entries are
// forgotten first; an entry unused for `ttlMs` is forgotten. Forgetting costs nothing but a
// possible second relay of a late duplicate, which receivers drop themselves (they dedupe too).

/** The bounds of the map. */
export interface SessionLimits {
  /** Longest session id kept, in characters (automerge-repo's are about a dozen). */
  readonly maxSessionIdLength: number;
  readonly perSenderEntries: number;
  readonly perSenderBytes: number;
  readonly totalEntries: number;
  readonly totalBytes: number;
  /** An entry unused this long is forgotten, ms. */
  readonly ttlMs: number;
}

/** The server's bounds (docs/protocol.md, "Ephemeral messages", states them). */
export const sessionLimits: SessionLimits = {
  maxSessionIdLength: 256,
  perSenderEntries: 64,
  perSenderBytes: 32 * 1024,
  totalEntries: 100_000,
  totalBytes: 16 * 1024 * 1024,
  ttlMs: 30_000,
};

/** What the map counts per entry beyond the session id's characters (2 bytes each). */
const entryOverheadBytes = 96;

/** What `see` decided. */
export type SessionVerdict = "new" | "duplicate" | "refused";

interface Session<Sender> {
  readonly sender: Sender;
  readonly sessionId: string;
  readonly bytes: number;
  count: number;
  seenAt: number;
}

interface SenderSessions<Sender> {
  /** Least recently used first (a Map keeps insertion order; a use re-inserts). */
  readonly sessions: Map<string, Session<Sender>>;
  bytes: number;
}

/** The relay's dedupe map, keyed by the sender's object (never by its peer id's text). */
export class EphemeralSessions<Sender extends object> {
  readonly #limits: SessionLimits;
  readonly #now: () => number;
  readonly #bySender = new Map<Sender, SenderSessions<Sender>>();
  /** Every entry, least recently used first. */
  readonly #recency = new Set<Session<Sender>>();
  #bytes = 0;

  constructor(limits: SessionLimits = sessionLimits, now: () => number = Date.now) {
    this.#limits = limits;
    this.#now = now;
  }

  /** Entries kept now. */
  get size(): number {
    return this.#recency.size;
  }

  /** Bytes the entries are counted at now. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Records that `sender` sent `count` of `sessionId`: `new` when no higher or equal count of
   * that session was seen (relay it), `duplicate` otherwise, `refused` for a session id too long.
   */
  see(sender: Sender, sessionId: string, count: number): SessionVerdict {
    if (sessionId.length > this.#limits.maxSessionIdLength) return "refused";
    const now = this.#now();
    this.#expire(now);
    const own = this.#bySender.get(sender);
    const known = own?.sessions.get(sessionId);
    if (known && count <= known.count) return "duplicate";
    if (known) this.#remove(known);
    this.#add({
      sender,
      sessionId,
      bytes: sessionId.length * 2 + entryOverheadBytes,
      count,
      seenAt: now,
    });
    return "new";
  }

  /** Forgets every session of `sender` (it left). */
  forget(sender: Sender): void {
    const own = this.#bySender.get(sender);
    for (const session of own?.sessions.values() ?? []) this.#remove(session);
  }

  #add(session: Session<Sender>): void {
    let own = this.#bySender.get(session.sender);
    if (!own) {
      own = { sessions: new Map(), bytes: 0 };
      this.#bySender.set(session.sender, own);
    }
    own.sessions.set(session.sessionId, session);
    own.bytes += session.bytes;
    this.#recency.add(session);
    this.#bytes += session.bytes;
    const limits = this.#limits;
    while (own.sessions.size > limits.perSenderEntries || own.bytes > limits.perSenderBytes) {
      this.#remove(own.sessions.values().next().value as Session<Sender>);
    }
    while (this.#recency.size > limits.totalEntries || this.#bytes > limits.totalBytes) {
      this.#remove(this.#recency.values().next().value as Session<Sender>);
    }
  }

  /** Forgets the entries unused for the time to live (the oldest come first). */
  #expire(now: number): void {
    for (const session of this.#recency) {
      if (now - session.seenAt < this.#limits.ttlMs) return;
      this.#remove(session);
    }
  }

  #remove(session: Session<Sender>): void {
    if (!this.#recency.delete(session)) return;
    this.#bytes -= session.bytes;
    const own = this.#bySender.get(session.sender);
    if (!own) return;
    own.sessions.delete(session.sessionId);
    own.bytes -= session.bytes;
    if (own.sessions.size === 0) this.#bySender.delete(session.sender);
  }
}
