// The cross-node bus every driver implements (memory in-process, redis shared): small binary
// messages between the nodes of one deployment, at most once. Consumers keep their truth in the
// shared database and use the bus only to learn early that something changed there.

/**
 * What `/healthz` reports of the bus. Like the store's status it names no place: the Redis URL
 * (and its password) is not the public's business.
 */
export interface BusStatus {
  /** The driver's name. */
  readonly driver: "memory" | "redis";
  /**
   * "open" while messages flow both ways; "degraded" while a connection is down (messages from
   * other nodes may be missed; a publish or subscribe that needs the connection that is down is
   * refused); "closed" after `close()`.
   */
  readonly state: "open" | "degraded" | "closed";
  /** While degraded: why, e.g. "redis subscriber connection: connect ECONNREFUSED 10.0.0.5:6379" */
  readonly lastError?: string;
  /** While degraded: since when, ISO 8601. */
  readonly since?: string;
}

/**
 * Receives one message: `payload` is the handler's own copy (it may keep or change it), `from`
 * the sender's `instanceId`. A handler that throws (or returns a promise that rejects) is
 * reported to the driver's `onError`; the other handlers and the bus go on.
 */
export type BusHandler = (payload: Uint8Array, from: string) => void;

/**
 * A topic-based pub/sub between nodes. Its invariants, which every driver keeps (the conformance
 * suite in testing/run-bus-tests.ts checks them):
 *
 * 1. Delivery is at most once: a message published while a node is unreachable, or while it
 *    reconnects, is lost for that node. `onResume` tells a node when it may have missed some;
 *    consumers then catch up from the shared database.
 * 2. A message reaches the subscribers of its topic on every *other* node, never on its
 *    publisher's node (own echoes are dropped by instance id): a node delivers locally itself.
 * 3. Per publisher and topic, messages arrive in the order they were published.
 * 4. Every handler gets its own copy of the payload; what the publisher does with its array after
 *    `publish` returns changes nothing that was sent.
 * 5. Delivery is asynchronous: never from within `publish`.
 * 6. After `close()`, `publish` and `subscribe` reject with ERR_BUS_CLOSED and no handler runs;
 *    an unsubscribe still resolves.
 *
 * Every method rejects with a SynclineError: ERR_BUS_UNAVAILABLE (the connection it needs is
 * down), ERR_BUS_CLOSED, or ERR_INVALID_OPTION for a topic that is not a non-empty well-formed
 * string or a payload that is not a Uint8Array.
 */
export interface Bus {
  /** This node's id on the bus, unique per process (16 random hex characters by default). */
  readonly instanceId: string;
  /**
   * Sends `payload` to the other nodes' subscribers of `topic`. Resolves once the bus accepted
   * it (not once delivered: nobody may be listening). Rejects at once with ERR_BUS_UNAVAILABLE
   * while degraded: nothing is queued, the caller decides whether the message still matters.
   */
  publish(topic: string, payload: Uint8Array): Promise<void>;
  /**
   * Calls `handler` for each message other nodes publish on `topic`. Resolves once the
   * subscription is active (a message published after that reaches it), with a function that
   * ends exactly this subscription; other subscriptions of the same topic keep theirs.
   * Subscriptions survive reconnects. Rejects with ERR_BUS_UNAVAILABLE while degraded.
   */
  subscribe(topic: string, handler: BusHandler): Promise<() => Promise<void>>;
  /**
   * Calls `listener` each time the bus is open again after being degraded, once every
   * subscription is active again: messages of the outage may have been missed. Returns a
   * function that removes the listener.
   */
  onResume(listener: () => void): () => void;
  /** The bus's state for health checks; never throws. */
  status(): BusStatus;
  /** Stops delivery and releases connections; idempotent. */
  close(): Promise<void>;
}

/** Where a problem reported to `onError` came from. */
export interface BusErrorContext {
  /**
   * "handler": a subscriber's handler threw; "resume": an `onResume` listener threw;
   * "dropped": a message was dropped unread (ERR_BUS_MESSAGE: malformed, or a newer envelope
   * version); "connection": a connection to Redis was lost (reported once per outage).
   */
  readonly kind: "handler" | "resume" | "dropped" | "connection";
  /** The topic of the message, for "handler" and "dropped". */
  readonly topic?: string;
}

/** Receives what a bus cannot hand to a caller; it must not throw (what it throws is ignored). */
export type BusErrorListener = (error: unknown, context: BusErrorContext) => void;

/** Options every driver takes. */
export interface BusDriverOptions {
  /**
   * This node's id: 1–64 characters of letters, digits and `. _ : -`. Default: 16 random hex
   * characters. Two live nodes must never share one (each would drop the other's messages).
   */
  readonly instanceId?: string;
  /** See BusErrorListener. Default: `process.emitWarning`, so nothing is lost silently. */
  readonly onError?: BusErrorListener;
}
