// The publisher's queue (share.md, seed §5): items collect per session in a map keyed by the
// item's key, the first one starts a 1 s window, and when it closes one POST carries the latest
// value of each key. A failed batch is never lost: it goes back under newer values and is retried
// with full-jitter backoff. One request per session at a time, so an older value can never land
// after a newer one. No node:* imports; fetch and timers are injected.

import { createError } from "../../protocol/errors.js";
import { keyOfItem, type ShareItem } from "../../protocol/share-items.js";
import { type Backoff, type BackoffOptions, createBackoff } from "../../util/backoff.js";
import { createDeferred, type Deferred } from "../../util/deferred.js";
import { TypedEmitter } from "../../util/typed-emitter.js";
import type { NamedItem, ShareHttp, SyncOutcome } from "./share-http.js";

/** What the queue needs to publish a session: its share id and secret. */
export interface ShareCredentials {
  readonly id: string;
  readonly secret: string;
}

/** Where the queue finds (and, after a 401, forgets) each session's share record. */
export interface ShareRecords {
  /** The credentials of `sessionID`'s share, or undefined when there is no record. */
  get(sessionID: string): ShareCredentials | undefined;
  /** Forgets `sessionID`'s share record (its secret was refused). */
  remove(sessionID: string): void | Promise<void>;
}

/** An item that did not reach the server, with its key. */
export interface DroppedItem {
  readonly key: string;
  readonly item: ShareItem;
  /** Why the server refused it, when it said. */
  readonly reason?: string;
}

/** The events of a share queue; every outcome a publisher should know about is one. */
export interface ShareQueueEvents {
  /** A batch is durable on the server. `ignored` lists what the server ignored (off-schema). */
  synced: (event: {
    sessionID: string;
    id: string;
    seq: number | undefined;
    keys: readonly string[];
    ignored: readonly NamedItem[];
  }) => void;
  /** A batch failed (network error, 5xx) and was put back; the next try is in `delayMs`. */
  retry: (event: {
    sessionID: string;
    id: string;
    attempt: number;
    delayMs: number;
    status: number | undefined;
    message: string;
    pending: number;
  }) => void;
  /** 401: the secret was refused; the local record was removed and the session's items dropped. */
  unauthorized: (event: {
    sessionID: string;
    id: string;
    message: string;
    dropped: readonly DroppedItem[];
    /** Set when removing the local record failed. */
    recordError?: unknown;
  }) => void;
  /** 404: the share is gone; the session is no longer synced and its items were dropped. */
  "not-found": (event: {
    sessionID: string;
    id: string;
    message: string;
    dropped: readonly DroppedItem[];
  }) => void;
  /** 400/413: the server refused these items; they were dropped, the rest is sent on. */
  rejected: (event: {
    sessionID: string;
    id: string;
    status: number;
    message: string;
    items: readonly DroppedItem[];
  }) => void;
  /** No share record for the session when its batch was due: its items were dropped. */
  "no-record": (event: { sessionID: string; dropped: readonly DroppedItem[] }) => void;
}

/** Options of `createShareQueue`. */
export interface ShareQueueOptions {
  /** The HTTP client of the server to publish to (`createShareHttp`). */
  http: ShareHttp;
  /** The share records: id and secret per session. */
  records: ShareRecords;
  /** How long the first item of a batch waits for more, in ms. Default 1000 (seed §5). */
  windowMs?: number;
  /** Retry backoff (full jitter). Default 1 s doubling up to 30 s. */
  backoff?: Partial<BackoffOptions>;
  /** Randomness for the jitter. Default Math.random. */
  random?: () => number;
  /** Timers. Default the global setTimeout/clearTimeout. */
  setTimeout?: (callback: () => void, ms: number) => unknown;
  clearTimeout?: (handle: unknown) => void;
  /** Longest wait of `close()` for pending items, in ms. Default 5000. */
  closeTimeoutMs?: number;
}

/** What `sync()` did with the items it was given. */
export interface SyncResult {
  /** Items queued (an item replacing a pending one of the same key counts). */
  readonly queued: number;
  /** Items with no key (bad type or id), by their index in the call; not queued. */
  readonly invalid: ReadonlyArray<{ index: number; item: ShareItem; reason: string }>;
  /** True when the session was stopped (404, 401, no record): nothing was queued. */
  readonly stopped: boolean;
}

/** What `close()` left undelivered. */
export interface CloseResult {
  /** True when every queued item reached the server (or was refused and reported). */
  readonly delivered: boolean;
  /** Items still pending per session when the wait ended. */
  readonly undelivered: ReadonlyArray<{ sessionID: string; keys: readonly string[] }>;
}

/** The client queue. */
export interface ShareQueue {
  /** Queues `items` of `sessionID`'s share; the first of a window starts the window's timer. */
  sync(sessionID: string, items: readonly ShareItem[]): SyncResult;
  /** Sends everything pending now (and retries now); resolves when nothing is pending. */
  flush(): Promise<void>;
  /**
   * Flushes with a bounded wait (default `closeTimeoutMs`), then stops: timers cleared, a request
   * still running aborted. `sync()` after close throws ERR_SHUTTING_DOWN.
   */
  close(timeoutMs?: number): Promise<CloseResult>;
  /** Items waiting for `sessionID` (pending, split or in flight), or for all sessions. */
  pendingCount(sessionID?: string): number;
  on<K extends keyof ShareQueueEvents>(event: K, listener: ShareQueueEvents[K]): () => void;
  off<K extends keyof ShareQueueEvents>(event: K, listener: ShareQueueEvents[K]): void;
}

type Batch = Map<string, ShareItem>;

/** One session's queue state. */
interface SessionQueue {
  readonly sessionID: string;
  /** Items since the last send, by key; newest value per key. */
  pending: Batch;
  /** Parts of a refused batch, sent before `pending` (split to find the offending items). */
  readonly chunks: Batch[];
  /** The batch of the request in flight. */
  inflight: Batch | undefined;
  /** A window or retry timer. */
  timer: unknown;
  /** The window closed while a request was in flight: send as soon as it ends. */
  due: boolean;
  readonly backoff: Backoff;
  /** 401, 404 or no record: never synced again by this queue. */
  stopped: boolean;
}

/** Creates a share queue. */
export function createShareQueue(options: ShareQueueOptions): ShareQueue {
  return new PublisherQueue(options);
}

class PublisherQueue implements ShareQueue {
  readonly #emitter = new TypedEmitter<ShareQueueEvents>();
  readonly #sessions = new Map<string, SessionQueue>();
  readonly #options: ShareQueueOptions;
  readonly #windowMs: number;
  readonly #setTimeout: (callback: () => void, ms: number) => unknown;
  readonly #clearTimeout: (handle: unknown) => void;
  readonly #abort = new AbortController();
  readonly #idleWaiters: Deferred<void>[] = [];
  /** flush() or close() asked: every window is closed at once. */
  #urgent = false;
  #closed = false;
  /** close() finished: nothing more is sent or scheduled. */
  #halted = false;

  constructor(options: ShareQueueOptions) {
    this.#options = options;
    this.#windowMs = options.windowMs ?? 1000;
    this.#setTimeout =
      options.setTimeout ?? ((callback, ms) => globalThis.setTimeout(callback, ms));
    this.#clearTimeout =
      options.clearTimeout ??
      ((handle) => globalThis.clearTimeout(handle as Parameters<typeof clearTimeout>[0]));
  }

  on<K extends keyof ShareQueueEvents>(event: K, listener: ShareQueueEvents[K]): () => void {
    return this.#emitter.on(event, listener);
  }

  off<K extends keyof ShareQueueEvents>(event: K, listener: ShareQueueEvents[K]): void {
    this.#emitter.off(event, listener);
  }

  sync(sessionID: string, items: readonly ShareItem[]): SyncResult {
    if (this.#closed) {
      throw createError(
        "ERR_SHUTTING_DOWN",
        `share queue: sync of session ${JSON.stringify(sessionID)} after close()`,
      );
    }
    const session = this.#session(sessionID);
    const invalid: Array<{ index: number; item: ShareItem; reason: string }> = [];
    if (session.stopped) return { queued: 0, invalid, stopped: true };
    let queued = 0;
    items.forEach((item, index) => {
      const key = keyOfItem(item, sessionID);
      if ("reason" in key) invalid.push({ index, item, reason: key.reason });
      else {
        session.pending.set(key.key, item);
        queued += 1;
      }
    });
    if (queued > 0 && session.timer === undefined && !session.due) {
      if (this.#urgent) this.#sendSoon(session);
      else session.timer = this.#setTimeout(() => this.#onWindow(session), this.#windowMs);
    }
    return { queued, invalid, stopped: false };
  }

  flush(): Promise<void> {
    this.#urgent = true;
    for (const session of this.#sessions.values()) {
      if (session.stopped || (session.pending.size === 0 && session.chunks.length === 0)) continue;
      // Windows close now, and a batch waiting out a backoff is tried again at once.
      this.#cancelTimer(session);
      if (session.inflight) session.due = true;
      else void this.#send(session);
    }
    return this.#whenIdle();
  }

  async close(timeoutMs = this.#options.closeTimeoutMs ?? 5000): Promise<CloseResult> {
    this.#closed = true;
    let timer: unknown;
    const deadline = new Promise<void>((resolve) => {
      timer = this.#setTimeout(resolve, timeoutMs);
    });
    await Promise.race([this.flush(), deadline]);
    this.#clearTimeout(timer);
    this.#halted = true;
    const undelivered: Array<{ sessionID: string; keys: string[] }> = [];
    for (const session of this.#sessions.values()) {
      this.#cancelTimer(session);
      const keys = new Set<string>();
      for (const batch of [session.inflight, ...session.chunks, session.pending]) {
        for (const key of batch?.keys() ?? []) keys.add(key);
      }
      if (keys.size > 0) undelivered.push({ sessionID: session.sessionID, keys: [...keys] });
    }
    this.#abort.abort();
    for (const waiter of this.#idleWaiters.splice(0)) waiter.resolve();
    return { delivered: undelivered.length === 0, undelivered };
  }

  pendingCount(sessionID?: string): number {
    const sessions =
      sessionID === undefined
        ? [...this.#sessions.values()]
        : [this.#sessions.get(sessionID)].filter((s): s is SessionQueue => s !== undefined);
    let count = 0;
    for (const session of sessions) count += this.#waiting(session);
    return count;
  }

  #session(sessionID: string): SessionQueue {
    let session = this.#sessions.get(sessionID);
    if (session === undefined) {
      session = {
        sessionID,
        pending: new Map(),
        chunks: [],
        inflight: undefined,
        timer: undefined,
        due: false,
        backoff: createBackoff(
          { initialMs: 1000, maxMs: 30_000, ...this.#options.backoff },
          this.#options.random,
        ),
        stopped: false,
      };
      this.#sessions.set(sessionID, session);
    }
    return session;
  }

  #waiting(session: SessionQueue): number {
    const keys = new Set<string>();
    for (const batch of [session.inflight, ...session.chunks, session.pending]) {
      for (const key of batch?.keys() ?? []) keys.add(key);
    }
    return keys.size;
  }

  #onWindow(session: SessionQueue): void {
    session.timer = undefined;
    if (session.inflight) session.due = true;
    else void this.#send(session);
  }

  #sendSoon(session: SessionQueue): void {
    this.#cancelTimer(session);
    session.timer = this.#setTimeout(() => {
      session.timer = undefined;
      void this.#send(session);
    }, 0);
  }

  #cancelTimer(session: SessionQueue): void {
    if (session.timer !== undefined) this.#clearTimeout(session.timer);
    session.timer = undefined;
  }

  /** Sends the next batch of `session`: a refused batch's parts first, then what is pending. */
  async #send(session: SessionQueue): Promise<void> {
    if (session.inflight || session.stopped || this.#halted) return this.#checkIdle();
    session.due = false;
    let batch: Batch | undefined;
    let fromChunk = false;
    while (session.chunks.length > 0 && batch === undefined) {
      const chunk = session.chunks.shift() as Batch;
      // A newer value pending for the same key will be sent next; the stale one need not be.
      for (const key of session.pending.keys()) chunk.delete(key);
      if (chunk.size > 0) {
        batch = chunk;
        fromChunk = true;
      }
    }
    if (batch === undefined) {
      if (session.pending.size === 0) return this.#checkIdle();
      batch = session.pending;
      session.pending = new Map();
    }
    const credentials = this.#options.records.get(session.sessionID);
    if (credentials === undefined) {
      const dropped = this.#stop(session, batch);
      this.#emitter.emit("no-record", { sessionID: session.sessionID, dropped });
      return this.#checkIdle();
    }
    session.inflight = batch;
    const outcome = await this.#options.http.sync(
      credentials.id,
      credentials.secret,
      [...batch.values()],
      this.#abort.signal,
    );
    session.inflight = undefined;
    if (this.#halted) {
      // close() gave up waiting and counted this batch as undelivered.
      return;
    }
    await this.#settle(session, credentials, batch, fromChunk, outcome);
    this.#checkIdle();
  }

  async #settle(
    session: SessionQueue,
    credentials: ShareCredentials,
    batch: Batch,
    fromChunk: boolean,
    outcome: SyncOutcome,
  ): Promise<void> {
    const { sessionID } = session;
    const { id } = credentials;
    switch (outcome.kind) {
      case "ok": {
        session.backoff.reset();
        const keys = [...batch.keys()];
        this.#emitter.emit("synced", {
          sessionID,
          id,
          seq: outcome.seq,
          keys,
          // Name each ignored item by its key when the server gave only its index.
          ignored: outcome.ignored.map((named) =>
            named.key === undefined && named.index !== undefined && keys[named.index] !== undefined
              ? { ...named, key: keys[named.index] }
              : named,
          ),
        });
        return this.#next(session);
      }
      case "retry": {
        this.#putBack(session, batch, fromChunk);
        this.#cancelTimer(session);
        session.due = false;
        const attempt = session.backoff.attempt + 1;
        const delayMs = session.backoff.next();
        session.timer = this.#setTimeout(() => {
          session.timer = undefined;
          void this.#send(session);
        }, delayMs);
        this.#emitter.emit("retry", {
          sessionID,
          id,
          attempt,
          delayMs,
          status: outcome.status,
          message: outcome.message,
          pending: this.#waiting(session),
        });
        return;
      }
      case "unauthorized": {
        const dropped = this.#stop(session, batch);
        let recordError: unknown;
        try {
          await this.#options.records.remove(sessionID);
        } catch (error) {
          recordError = error;
        }
        this.#emitter.emit("unauthorized", {
          sessionID,
          id,
          message: outcome.message,
          dropped,
          ...(recordError === undefined ? {} : { recordError }),
        });
        return;
      }
      case "not-found": {
        const dropped = this.#stop(session, batch);
        this.#emitter.emit("not-found", { sessionID, id, message: outcome.message, dropped });
        return;
      }
      case "rejected":
        this.#onRejected(session, id, batch, outcome);
        return this.#next(session);
    }
  }

  /** 400/413: drop the items the server named; unnamed, split the batch until each is found. */
  #onRejected(
    session: SessionQueue,
    id: string,
    batch: Batch,
    outcome: Extract<SyncOutcome, { kind: "rejected" }>,
  ): void {
    const entries = [...batch];
    const offending = new Map<string, DroppedItem>();
    for (const named of outcome.items) {
      const entry =
        named.index !== undefined
          ? entries[named.index]
          : entries.find(([key]) => key === named.key);
      if (entry === undefined) continue;
      const [key, item] = entry;
      offending.set(key, { key, item, ...(named.reason ? { reason: named.reason } : {}) });
    }
    if (offending.size === 0 && entries.length === 1) {
      const [key, item] = entries[0] as [string, ShareItem];
      offending.set(key, { key, item, reason: outcome.message });
    }
    if (offending.size === 0) {
      // The server did not say which: halve the batch and send the halves one after the other.
      const half = Math.ceil(entries.length / 2);
      session.chunks.unshift(new Map(entries.slice(0, half)), new Map(entries.slice(half)));
      return;
    }
    const rest = new Map(entries.filter(([key]) => !offending.has(key)));
    if (rest.size > 0) session.chunks.unshift(rest);
    this.#emitter.emit("rejected", {
      sessionID: session.sessionID,
      id,
      status: outcome.status,
      message: outcome.message,
      items: [...offending.values()],
    });
  }

  /** Puts a failed batch back under what was queued since (newer values win). */
  #putBack(session: SessionQueue, batch: Batch, fromChunk: boolean): void {
    if (fromChunk) {
      session.chunks.unshift(batch);
      return;
    }
    const merged: Batch = new Map(batch);
    // Newer values replace older ones in place: each key keeps the position it first had.
    for (const [key, item] of session.pending) merged.set(key, item);
    session.pending = merged;
  }

  /** After a request: split parts go at once, a closed window at once, else wait for it. */
  #next(session: SessionQueue): void {
    if (session.stopped || this.#halted) return;
    if (session.chunks.length > 0 || session.due || (this.#urgent && session.pending.size > 0)) {
      this.#cancelTimer(session);
      void this.#send(session);
    } else if (session.pending.size > 0 && session.timer === undefined) {
      session.timer = this.#setTimeout(() => this.#onWindow(session), this.#windowMs);
    }
  }

  /** Stops syncing `session` for good; returns every item it still held. */
  #stop(session: SessionQueue, batch: Batch): DroppedItem[] {
    session.stopped = true;
    this.#cancelTimer(session);
    const dropped = new Map<string, ShareItem>(batch);
    for (const chunk of session.chunks) for (const [key, item] of chunk) dropped.set(key, item);
    for (const [key, item] of session.pending) dropped.set(key, item);
    session.chunks.length = 0;
    session.pending = new Map();
    session.due = false;
    return [...dropped].map(([key, item]) => ({ key, item }));
  }

  #whenIdle(): Promise<void> {
    const waiter = createDeferred<void>();
    this.#idleWaiters.push(waiter);
    this.#checkIdle();
    return waiter.promise;
  }

  #checkIdle(): void {
    if (this.#idleWaiters.length === 0) return;
    for (const session of this.#sessions.values()) {
      if (!session.stopped && this.#waiting(session) > 0) return;
    }
    for (const waiter of this.#idleWaiters.splice(0)) waiter.resolve();
  }
}
