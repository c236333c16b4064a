// The live-share server: creates and deletes shares, runs the publish path (validate → durable
// → broadcast, serialized per share) and attaches viewers. Shares are loaded on demand and leave
// memory when idle, or sooner when the loaded ones would pass the memory budget. HTTP and
// WebSocket wiring live in server/share-endpoint.ts.

import { ShareCloseCode } from "../protocol/share-frames.js";
import { isShareId, type ShareId, shareIdOfSession } from "../protocol/share-items.js";
import type { Store } from "../storage/store.js";
import {
  badRequest,
  badSecret,
  memoryBudgetExceeded,
  shareExists,
  shareNotFound,
  shareTooLarge,
  storageFailed,
  tooLarge,
} from "./share-errors.js";
import { ShareMemory } from "./share-memory.js";
import {
  createOps,
  epochOf,
  generateEpoch,
  readMeta,
  readShare,
  type ShareMeta,
  type ShareRecord,
  sharePrefix,
  writeOps,
} from "./share-records.js";
import { generateSecret, hashSecret, verifySecret } from "./share-secret.js";
import { type PlannedWrite, ShareState } from "./share-state.js";
import {
  type ItemProblem,
  type PreparedItems,
  prepareItems,
  prepareKeyWrite,
} from "./sync-items.js";
import { ViewerFanout, type ViewerSocket } from "./viewer-fanout.js";

/** Limits of the share server; server/config.ts documents the defaults. */
export interface ShareLimits {
  /** Largest item content, bytes of JSON. */
  readonly maxItemBytes: number;
  /**
   * Largest share: JSON bytes of the content of all its keys, writes in flight counted. A sync
   * that would grow a share beyond is refused (413) as a whole; one that shrinks it never is.
   */
  readonly maxShareBytes: number;
  /**
   * Most content all loaded shares may hold together, bytes of JSON counted as `maxShareBytes`
   * counts them. Loading or growing a share past it first evicts idle shares (no viewers, nothing
   * in flight), least recently used first; when that cannot make room the request is refused (503
   * ERR_SHARE_MEMORY_BUDGET). A delete is never refused for it. Default: no budget.
   */
  readonly memoryBudgetBytes?: number;
  /** Unsent bytes a viewer may have queued (beyond its initial dump) before it is closed 4429. */
  readonly viewerMaxBufferedBytes: number;
  /** Least time between two batches written to a share's viewers, ms (see viewer-fanout.ts). */
  readonly viewerFlushIntervalMs: number;
  /** Recent writes kept per share for catch-up: most frames, most bytes. */
  readonly logMaxFrames: number;
  readonly logMaxBytes: number;
  /** A share without viewers or writes in flight for this long leaves memory, ms. */
  readonly idleEvictMs: number;
}

/** What the hub reports (metrics, logs). */
export interface ShareObserver {
  shareLoaded?(): void;
  shareEvicted?(): void;
  /** The content bytes of the loaded shares changed: the new total (what the budget bounds). */
  loadedBytes?(bytes: number): void;
  published?(): void;
  delivered?(frames: number): void;
  /** Seconds from a sync's arrival at the hub to its frames handed to every viewer. */
  broadcast?(seconds: number): void;
  slowViewer?(): void;
  error?(error: unknown, context: string): void;
}

/** The answer to a sync. */
export interface SyncResult {
  /** The share's seq once this sync is durable (its last write's seq). */
  readonly seq: number;
  /** Distinct keys accepted: written, or already holding that content. */
  readonly accepted: number;
  /** Keys written with a new seq (a frame each was broadcast). */
  readonly written: number;
  readonly ignored: readonly ItemProblem[];
}

interface LiveShare {
  readonly id: ShareId;
  readonly meta: ShareMeta;
  readonly state: ShareState;
  readonly fanout: ViewerFanout;
  /** Settles when every write issued so far is committed and broadcast (never rejects). */
  tail: Promise<void>;
  inFlight: number;
  lastUsed: number;
  status: "live" | "failed" | "deleted";
}

/** Creates the hub; `close()` it on shutdown. */
export class ShareHub {
  readonly #store: Store;
  readonly #limits: ShareLimits;
  readonly #observer: ShareObserver;
  readonly #shares = new Map<ShareId, LiveShare>();
  readonly #loading = new Map<ShareId, Promise<LiveShare | undefined>>();
  readonly #locks = new Map<ShareId, Promise<unknown>>();
  readonly #memory: ShareMemory<LiveShare>;
  readonly #sweep: NodeJS.Timeout;

  constructor(options: { store: Store; limits: ShareLimits; observer?: ShareObserver }) {
    this.#store = options.store;
    this.#limits = options.limits;
    this.#observer = options.observer ?? {};
    this.#memory = new ShareMemory(
      options.limits.memoryBudgetBytes ?? Number.POSITIVE_INFINITY,
      (bytes) => this.#observer.loadedBytes?.(bytes),
    );
    const period = Math.max(250, Math.min(options.limits.idleEvictMs / 2, 30_000));
    this.#sweep = setInterval(() => this.#evictIdle(), period);
    this.#sweep.unref();
  }

  /** Shares in memory now. */
  get loadedShares(): number {
    return this.#shares.size;
  }

  /** Bytes of content JSON the shares in memory hold now, writes in flight counted. */
  get loadedBytes(): number {
    return this.#memory.total;
  }

  /** Creates the share of `sessionID`: its id is the session's last 8 characters. */
  async create(sessionID: unknown): Promise<{ id: ShareId; secret: string }> {
    if (typeof sessionID !== "string") {
      throw badRequest(
        `share create: sessionID must be a string, got ${JSON.stringify(sessionID) ?? "undefined"}`,
      );
    }
    const id = shareIdOfSession(sessionID);
    if (!id) {
      throw badRequest(
        `share create: sessionID ${JSON.stringify(sessionID)} is not a session id (8–200 of A-Z a-z 0-9 _ . : -, ending in 8 of A-Z a-z 0-9 _ -)`,
      );
    }
    return this.#locked(id, async () => {
      const live = this.#shares.get(id);
      const existing =
        live?.meta ??
        (await this.#read("share create", id, () => readMeta((k) => this.#store.get(k), id)));
      if (existing) throw shareExists(id, sessionID);
      const secret = generateSecret();
      const meta: ShareMeta = {
        sessionID,
        secretHash: hashSecret(secret),
        createdAt: Date.now(),
        epoch: generateEpoch(),
      };
      await this.#read("share create", id, () => this.#store.write(createOps(id, meta)));
      return { id, secret };
    });
  }

  /** `POST /api/share/:id/sync`: writes the items durably, then broadcasts them. */
  async sync(id: string, secret: unknown, data: readonly unknown[]): Promise<SyncResult> {
    return this.#use(
      () => this.#authorized("share sync", id, secret),
      (share) =>
        this.#publish(share, prepareItems(data, share.meta.sessionID, this.#limits.maxItemBytes)),
    );
  }

  /** The older `POST /share_sync {sessionID, secret, key, content}`: one key. */
  async syncKey(id: string, secret: unknown, key: unknown, content: unknown): Promise<SyncResult> {
    return this.#use(
      () => this.#authorized("share sync", id, secret),
      (share) =>
        this.#publish(
          share,
          prepareKeyWrite(key, content, share.meta.sessionID, this.#limits.maxItemBytes),
        ),
    );
  }

  /** The durable state of a share, `[key, content JSON]` in key order, and its seq. */
  async read(id: string): Promise<{ sessionID: string; seq: number; entries: [string, string][] }> {
    const share = await this.#require("share data", id);
    return {
      sessionID: share.meta.sessionID,
      seq: share.state.seq,
      entries: share.state.entries(),
    };
  }

  /** True when the share exists (loads it). */
  async exists(id: string): Promise<boolean> {
    return isShareId(id) && (await this.#load(id)) !== undefined;
  }

  /** Deletes a share: storage removed, its viewers closed with 4410. */
  async remove(id: string, secret: unknown): Promise<void> {
    if (!isShareId(id)) throw shareNotFound("share delete", id);
    await this.#locked(id, async () => {
      const share = await this.#use(
        () => this.#authorizedDelete(id, secret),
        (share) => {
          share.status = "deleted";
          // Held in memory until the delete settles: evicted meanwhile, it could be reloaded.
          share.inFlight++;
          return share;
        },
      );
      try {
        await share.tail;
        await this.#store.deletePrefix(sharePrefix(id));
      } catch (error) {
        // Nothing was deleted: viewers reconnect, and the next request reloads the share.
        share.status = "failed";
        share.fanout.closeAll(1011, "share storage failed; reconnect");
        this.#drop(share);
        throw storageFailed("share delete", id, error);
      } finally {
        share.inFlight--;
      }
      share.fanout.closeAll(ShareCloseCode.deleted, "share deleted");
      this.#drop(share);
    });
  }

  /**
   * Attaches a viewer: sends the initial state — or, with `since`, only the frames after it
   * when the log still holds them — then every live frame. `epoch` (from the viewer's last
   * initial state) qualifies `since`: when it is not the share's epoch, `since` counted writes of
   * an earlier share under this id (deleted and created again), so the full state is sent.
   * Returns the detach function, or undefined (the socket closed with 4404) when there is no such
   * share.
   */
  async attach(
    id: string,
    socket: ViewerSocket,
    since?: number,
    epoch?: string,
  ): Promise<(() => void) | undefined> {
    const load = async () => (isShareId(id) ? await this.#load(id) : undefined);
    return this.#use(load, (share) => {
      if (share?.status !== "live") {
        // A failed share is being reloaded: come back; a missing or deleted one will not.
        if (share?.status === "failed") socket.close(1011, "share storage failed; reconnect");
        else socket.close(ShareCloseCode.notFound, "no such share");
        return undefined;
      }
      // A share without an epoch (unknown) differs from any given one: the full state is safe.
      const sameShare = epoch === undefined || epoch === share.state.epoch;
      const frames = since === undefined || !sameShare ? undefined : share.state.framesAfter(since);
      share.fanout.add(socket, frames ?? [share.state.initialState()]);
      share.lastUsed = Date.now();
      return () => {
        share.fanout.delete(socket);
        share.lastUsed = Date.now();
      };
    });
  }

  /** Waits for writes in flight, then forgets every share (viewers get 1001). */
  async close(): Promise<void> {
    clearInterval(this.#sweep);
    const shares = [...this.#shares.values()];
    await Promise.all(shares.map((share) => share.tail));
    for (const share of shares) {
      share.fanout.closeAll(ShareCloseCode.goingAway, "server shutting down");
      this.#drop(share);
    }
  }

  async #publish(share: LiveShare, prepared: PreparedItems): Promise<SyncResult> {
    const started = performance.now();
    checkPublishable(share, prepared);
    // Checked against the in-flight state, then planned in the same turn: concurrent syncs
    // each see the growth of those planned before them.
    const growth = share.state.growth(prepared.writes);
    const current = share.state.plannedBytes;
    if (growth > 0 && current + growth > this.#limits.maxShareBytes) {
      throw shareTooLarge(share.id, current, growth, this.#limits.maxShareBytes);
    }
    if (growth > 0) this.#makeRoom("share sync", share.id, growth, share);
    this.#observer.published?.();
    const planned = share.state.plan(prepared.writes);
    this.#count(share);
    const answer = (seq: number) => ({
      seq,
      accepted: prepared.writes.length,
      written: planned.length,
      ignored: prepared.ignored,
    });
    if (planned.length === 0) {
      // Nothing new; an equal write may still be in flight, and the 200 promises durability:
      // wait for it, and answer as it did (`tail` never rejects, so look at what it left).
      await share.tail;
      const status = share.status as LiveShare["status"];
      if (status === "deleted") throw shareNotFound("share sync", share.id);
      if (status === "failed") throw storageFailed("share sync", share.id, FAILED_REASON);
      return answer(share.state.seq);
    }
    const seq = (planned[planned.length - 1] as { seq: number }).seq;
    share.inFlight++;
    try {
      await this.#writeThenBroadcast(share, planned, seq, started);
      return answer(seq);
    } finally {
      share.inFlight--;
      share.lastUsed = Date.now();
      // (status may have changed while awaiting; the narrowing in checkPublishable does not hold)
      const status = share.status as LiveShare["status"];
      if (status === "failed" && share.inFlight === 0) this.#drop(share);
    }
  }

  /**
   * Writes `planned` (up to `seq`) durably, then broadcasts it after every earlier write of the
   * share; rejects with a 503 when the write failed (the share then fails and is reloaded).
   */
  #writeThenBroadcast(
    share: LiveShare,
    planned: readonly PlannedWrite[],
    seq: number,
    started: number,
  ): Promise<void> {
    // Issued now, in seq order: the store applies writes in call order and commits those of one
    // turn together, so concurrent syncs share a flush.
    const written = this.#store.write(writeOps(share.id, planned, seq)).then(
      () => undefined,
      (error: unknown) => error ?? new Error("write failed"),
    );
    const step = share.tail.then(async () => {
      const failure = await written;
      if (failure !== undefined) {
        this.#fail(share, failure);
        throw storageFailed("share sync", share.id, failure);
      }
      // Durable. A failed (being reloaded) or deleted share is not broadcast to any more.
      if (share.status !== "live") return;
      share.fanout.broadcast(share.state.commit(planned));
      this.#observer.broadcast?.((performance.now() - started) / 1000);
    });
    share.tail = step.catch(() => undefined);
    return step;
  }

  /** A write failed: the memory state is ahead of the store, so viewers reconnect to a reload. */
  #fail(share: LiveShare, error: unknown): void {
    if (share.status !== "live") return;
    share.status = "failed";
    this.#observer.error?.(error, `share ${share.id} write`);
    share.fanout.closeAll(1011, "share storage failed; reconnect");
  }

  /**
   * Runs `use` on the share `load` gives, in the same turn as it checks that the share is still
   * the one in memory: one evicted in between (for the memory budget, or idle) must not take
   * writes or viewers that later requests, served by a copy loaded again, would not see; it is
   * loaded again. No share, or one not live, is handed to `use` as it is: `use` answers for it.
   */
  async #use<S extends LiveShare | undefined, T>(
    load: () => Promise<S>,
    use: (share: S) => T | Promise<T>,
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const share = await load();
      if (share === undefined || share.status !== "live" || this.#shares.get(share.id) === share) {
        return use(share);
      }
      if (attempt === maxUseAttempts) {
        const { total, budget } = this.#memory;
        throw memoryBudgetExceeded("share load", share.id, total, share.state.plannedBytes, budget);
      }
    }
  }

  async #authorized(
    context: string,
    id: string,
    secret: unknown,
    overBudget = false,
  ): Promise<LiveShare> {
    const share = await this.#require(context, id, overBudget);
    if (!verifySecret(secret, share.meta.secretHash)) throw badSecret(context, id, secret);
    return share;
  }

  /**
   * The share to delete, its secret checked. A delete is never refused for memory (its share
   * leaves memory when it is done), so a share not in memory is loaded past the budget if need
   * be — after the secret is checked against the stored one, so that only its owner can.
   */
  async #authorizedDelete(id: ShareId, secret: unknown): Promise<LiveShare> {
    if (!this.#shares.has(id)) {
      const meta = await this.#read("share delete", id, () =>
        readMeta((key) => this.#store.get(key), id),
      );
      if (!meta) throw shareNotFound("share delete", id);
      if (!verifySecret(secret, meta.secretHash)) throw badSecret("share delete", id, secret);
    }
    return this.#authorized("share delete", id, secret, true);
  }

  async #require(context: string, id: string, overBudget = false): Promise<LiveShare> {
    const share = isShareId(id) ? await this.#load(id, overBudget) : undefined;
    if (!share || share.status === "deleted") throw shareNotFound(context, id);
    return share;
  }

  /**
   * The share in memory, else loaded from the store (undefined: none stored). A load that would
   * pass the memory budget evicts idle shares or is refused, unless `overBudget`; a caller joining
   * a load already under way gets its outcome.
   */
  #load(id: ShareId, overBudget = false): Promise<LiveShare | undefined> {
    const live = this.#shares.get(id);
    if (live) {
      live.lastUsed = Date.now();
      return Promise.resolve(live);
    }
    let loading = this.#loading.get(id);
    if (!loading) {
      loading = this.#read("share load", id, () => readShare(this.#store, id))
        .then((record) => (record ? this.#loaded(id, record, overBudget) : undefined))
        .finally(() => this.#loading.delete(id));
      this.#loading.set(id, loading);
    }
    return loading;
  }

  /** Puts a share read from the store in memory, making room for it in the memory budget. */
  #loaded(id: ShareId, record: ShareRecord, overBudget: boolean): LiveShare {
    const share: LiveShare = {
      id,
      meta: record.meta,
      state: new ShareState(
        record.items,
        record.seq,
        { maxFrames: this.#limits.logMaxFrames, maxBytes: this.#limits.logMaxBytes },
        epochOf(record.meta),
      ),
      fanout: new ViewerFanout(
        {
          maxBufferedBytes: this.#limits.viewerMaxBufferedBytes,
          flushIntervalMs: this.#limits.viewerFlushIntervalMs,
        },
        {
          delivered: (count) => this.#observer.delivered?.(count),
          slowViewer: () => this.#observer.slowViewer?.(),
        },
      ),
      tail: Promise.resolve(),
      inFlight: 0,
      lastUsed: Date.now(),
      status: "live",
    };
    this.#makeRoom("share load", id, share.state.plannedBytes, undefined, overBudget);
    this.#shares.set(id, share);
    this.#count(share);
    this.#observer.shareLoaded?.();
    return share;
  }

  /**
   * Makes room in the memory budget for `extra` more bytes of content by evicting idle shares
   * (no viewers, nothing in flight; never `keep`), least recently used first. When even that
   * would not make room it evicts none and throws a 503 — or, `overBudget`, lets it be passed.
   */
  #makeRoom(context: string, id: ShareId, extra: number, keep?: LiveShare, overBudget = false) {
    if (this.#memory.fits(extra)) return;
    const idle = [...this.#shares.values()].filter((share) => share !== keep && isIdle(share));
    const evict = this.#memory.evictionsFor(extra, idle);
    if (evict === undefined) {
      if (overBudget) return;
      throw memoryBudgetExceeded(context, id, this.#memory.total, extra, this.#memory.budget);
    }
    for (const share of evict) this.#drop(share);
  }

  /** Counts what a share in memory holds (durable content and writes in flight) in the budget. */
  #count(share: LiveShare): void {
    if (this.#shares.get(share.id) === share) this.#memory.set(share, share.state.plannedBytes);
  }

  #drop(share: LiveShare): void {
    if (this.#shares.get(share.id) !== share) return;
    this.#shares.delete(share.id);
    this.#memory.delete(share);
    this.#observer.shareEvicted?.();
  }

  #evictIdle(): void {
    const cutoff = Date.now() - this.#limits.idleEvictMs;
    for (const share of this.#shares.values()) {
      if (isIdle(share) && share.lastUsed <= cutoff) this.#drop(share);
    }
  }

  /** Runs `task` after every earlier locked task of the same share id (create and delete). */
  async #locked<T>(id: ShareId, task: () => Promise<T>): Promise<T> {
    const previous = this.#locks.get(id) ?? Promise.resolve();
    const run = previous.then(task, task);
    const settled = run.catch(() => undefined);
    this.#locks.set(id, settled);
    void settled.then(() => {
      if (this.#locks.get(id) === settled) this.#locks.delete(id);
    });
    return run;
  }

  /** Runs a store operation; its failure becomes a 503 naming the share. */
  async #read<T>(context: string, id: ShareId, operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      throw storageFailed(context, id, error);
    }
  }
}

const FAILED_REASON = "an earlier write failed and the share is being reloaded";

/** Loads of a share evicted each time before it could be used, before the request gives up. */
const maxUseAttempts = 3;

/**
 * A share that may leave memory: live (one failed or being deleted is dropped by whoever holds
 * it, when done), without viewers and without writes in flight.
 */
function isIdle(share: LiveShare): boolean {
  return share.status === "live" && share.fanout.size === 0 && share.inFlight === 0;
}

/** Throws the answer to a sync that must not be applied: items too large, share gone or failed. */
function checkPublishable(share: LiveShare, prepared: PreparedItems): void {
  if (prepared.tooLarge.length > 0) {
    const first = prepared.tooLarge[0] as ItemProblem;
    const more = prepared.tooLarge.length > 1 ? ` (and ${prepared.tooLarge.length - 1} more)` : "";
    throw tooLarge(`share sync: ${first.reason}${more}; nothing was applied`, prepared.tooLarge);
  }
  if (share.status === "deleted") throw shareNotFound("share sync", share.id);
  if (share.status === "failed") throw storageFailed("share sync", share.id, FAILED_REASON);
}
