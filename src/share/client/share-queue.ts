// The publisher's queue (docs/protocol.md): items collect per session in a map keyed by the
// item's key, the first one starts a 1 s window, and when it closes one POST carries the latest
// value of each key. A failed batch is never lost: it goes back under newer values and is retried
// with full-jitter backoff. One request per session at a time, so an older value can never land
// after a newer one. No node:* imports; fetch and timers are injected. This class only schedules
// (windows, retries, flush, close) and reports: which items go next is session-batches.ts, what
// an answer means is sync-action.ts.

import { createError, optionChecked } from "../../protocol/errors.js";
import { keyOfItem, type ShareItem } from "../../protocol/share-items.js";
import { type Backoff, createBackoff } from "../../util/backoff.js";
import { createDeferred, type Deferred } from "../../util/deferred.js";
import { TypedEmitter } from "../../util/typed-emitter.js";
import {
  type Batch,
  type DroppedItem,
  SessionBatches,
  type TakenBatch,
} from "./session-batches.js";
import type { ShareQueueEvents } from "./share-queue-events.js";
import { checkQueueOptions, type ShareQueueOptions } from "./share-queue-options.js";
import { type SyncAction, syncAction } from "./sync-action.js";

/** What `sync()` did with the items it was given. */
export interface QueuedItems {
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
  sync(sessionID: string, items: readonly ShareItem[]): QueuedItems;
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

/** One session's queue: its batches and the scheduling around them. */
interface SessionQueue {
  readonly sessionID: string;
  readonly batches: SessionBatches;
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
    checkQueueOptions(options);
    // Each session makes its own backoff later: a bad option is refused here, not at a sync().
    optionChecked("share queue", () => this.#newBackoff());
    this.#setTimeout =
      options.setTimeout ?? ((callback, ms) => globalThis.setTimeout(callback, ms));
    this.#clearTimeout =
      options.clearTimeout ??
      ((handle) => globalThis.clearTimeout(handle as Parameters<typeof clearTimeout>[0]));
  }

  on<K extends keyof ShareQueueEvents>(event: K, listener: ShareQueueEvents[K]): () => void {
    return optionChecked("share queue", () => this.#emitter.on(event, listener));
  }

  off<K extends keyof ShareQueueEvents>(event: K, listener: ShareQueueEvents[K]): void {
    this.#emitter.off(event, listener);
  }

  sync(sessionID: string, items: readonly ShareItem[]): QueuedItems {
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
        session.batches.add(key.key, item);
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
      const { batches } = session;
      if (session.stopped || (batches.pendingSize === 0 && !batches.hasChunks)) continue;
      // Windows close now, and a batch waiting out a backoff is tried again at once.
      this.#cancelTimer(session);
      if (batches.inflight) session.due = true;
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
      const keys = session.batches.keys();
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
    for (const session of sessions) count += session.batches.keys().size;
    return count;
  }

  #session(sessionID: string): SessionQueue {
    let session = this.#sessions.get(sessionID);
    if (session === undefined) {
      session = {
        sessionID,
        batches: new SessionBatches(),
        timer: undefined,
        due: false,
        backoff: this.#newBackoff(),
        stopped: false,
      };
      this.#sessions.set(sessionID, session);
    }
    return session;
  }

  #newBackoff(): Backoff {
    return createBackoff(
      { initialMs: 1000, maxMs: 30_000, ...this.#options.backoff },
      this.#options.random,
    );
  }

  #onWindow(session: SessionQueue): void {
    session.timer = undefined;
    if (session.batches.inflight) session.due = true;
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

  /** Sends the next batch of `session` (one request per session at a time) and applies the answer. */
  async #send(session: SessionQueue): Promise<void> {
    const { batches, sessionID } = session;
    if (batches.inflight || session.stopped || this.#halted) return this.#checkIdle();
    session.due = false;
    const taken = batches.take();
    if (taken === undefined) return this.#checkIdle();
    const credentials = this.#options.records.get(sessionID);
    if (credentials === undefined) {
      const dropped = this.#stop(session, taken.batch);
      const error = createError(
        "ERR_SHARE_RECORD",
        `share queue: no share record for session ${JSON.stringify(sessionID)}; its ${dropped.length} pending items were dropped`,
      );
      this.#emitter.emit("no-record", { sessionID, error, dropped });
      return this.#checkIdle();
    }
    batches.inflight = taken.batch;
    const outcome = await this.#options.http.sync(
      credentials.id,
      credentials.secret,
      [...taken.batch.values()],
      this.#abort.signal,
    );
    batches.inflight = undefined;
    // close() gave up waiting and counted this batch as undelivered.
    if (this.#halted) return;
    await this.#apply(session, credentials.id, taken, syncAction(taken.batch, outcome));
    this.#checkIdle();
  }

  /** Carries out the queue's step for an answered batch and reports it. */
  async #apply(
    session: SessionQueue,
    id: string,
    taken: TakenBatch,
    action: SyncAction,
  ): Promise<void> {
    const { sessionID } = session;
    switch (action.kind) {
      case "deliver": {
        session.backoff.reset();
        const { seq, keys, ignored, ignoredCount } = action;
        this.#emitter.emit("synced", { sessionID, id, seq, keys, ignored, ignoredCount });
        return this.#next(session);
      }
      case "retry":
        session.batches.putBack(taken);
        return this.#retryLater(session, id, action);
      case "unauthorized":
        return this.#onUnauthorized(session, id, taken.batch, action);
      case "not-found": {
        const dropped = this.#stop(session, taken.batch);
        const { message, error } = action;
        this.#emitter.emit("not-found", { sessionID, id, message, error, dropped });
        return;
      }
      case "drop": {
        if (action.rest) session.batches.sendFirst(action.rest);
        const { status, message, error, dropped } = action;
        this.#emitter.emit("rejected", { sessionID, id, status, message, error, items: dropped });
        return this.#next(session);
      }
      case "bisect":
        session.batches.sendFirst(...action.halves);
        return this.#next(session);
    }
  }

  /** Schedules the next try of a put-back batch after the session's backoff. */
  #retryLater(
    session: SessionQueue,
    id: string,
    { status, message, error }: Extract<SyncAction, { kind: "retry" }>,
  ): void {
    this.#cancelTimer(session);
    session.due = false;
    const attempt = session.backoff.attempt + 1;
    const delayMs = session.backoff.next();
    session.timer = this.#setTimeout(() => {
      session.timer = undefined;
      void this.#send(session);
    }, delayMs);
    const pending = session.batches.keys().size;
    this.#emitter.emit("retry", {
      sessionID: session.sessionID,
      id,
      attempt,
      delayMs,
      status,
      message,
      error,
      pending,
    });
  }

  /** 401: stops the session and forgets its record, whose secret the server refused. */
  async #onUnauthorized(
    session: SessionQueue,
    id: string,
    batch: Batch,
    { message, error }: Extract<SyncAction, { kind: "unauthorized" }>,
  ): Promise<void> {
    const { sessionID } = session;
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
      message,
      error,
      dropped,
      ...(recordError === undefined ? {} : { recordError }),
    });
  }

  /** After a request: split parts go at once, a closed window at once, else wait for it. */
  #next(session: SessionQueue): void {
    if (session.stopped || this.#halted) return;
    const { batches } = session;
    if (batches.hasChunks || session.due || (this.#urgent && batches.pendingSize > 0)) {
      this.#cancelTimer(session);
      void this.#send(session);
    } else if (batches.pendingSize > 0 && session.timer === undefined) {
      session.timer = this.#setTimeout(() => this.#onWindow(session), this.#windowMs);
    }
  }

  /** Stops syncing `session` for good; returns every item it still held. */
  #stop(session: SessionQueue, batch: Batch): DroppedItem[] {
    session.stopped = true;
    this.#cancelTimer(session);
    session.due = false;
    return session.batches.drain(batch);
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
      if (!session.stopped && session.batches.keys().size > 0) return;
    }
    for (const waiter of this.#idleWaiters.splice(0)) waiter.resolve();
  }
}
