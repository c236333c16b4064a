// The write path of a share: a sync's prepared items are checked against the share's size limit
// and the memory budget, planned on the in-memory state, written durably, then committed and
// broadcast to its viewers — after every earlier write of the share, so viewers get writes in seq
// order and only once they are durable. A failed write fails the share so that it is reloaded.

import type { Store } from "../storage/store.js";
import { type LiveShare, moveShare, reloadCloseCode, reloadCloseReason } from "./live-share.js";
import type { LoadedShares } from "./loaded-shares.js";
import {
  shareDeleting,
  shareNotFound,
  shareQuotaExceeded,
  shareTooLarge,
  storageFailed,
  tooLarge,
} from "./share-errors.js";
import type { ShareObserver } from "./share-hub-options.js";
import type { ShareNodes } from "./share-nodes.js";
import type { PlannedWrite } from "./share-state.js";
import { writeOps } from "./share-storage.js";
import { ShareTurns } from "./share-turns.js";
import type { ShareUsage } from "./share-usage.js";
import type { ItemProblem, PreparedItems } from "./sync-items.js";

/** The answer to a sync. */
export interface PublishResult {
  /** The share's seq once this sync is durable (its last write's seq). */
  readonly seq: number;
  /** Distinct keys accepted: written, or already holding that content. */
  readonly accepted: number;
  /** Keys written with a new seq (a frame each was broadcast). */
  readonly written: number;
  readonly ignored: readonly ItemProblem[];
}

const FAILED_REASON = "an earlier write failed and the share is being reloaded";

/** Publishes syncs to loaded shares. */
export class SharePublisher {
  readonly #store: Store;
  readonly #loaded: LoadedShares;
  readonly #maxShareBytes: number;
  readonly #maxTotalBytes: number;
  readonly #usage: ShareUsage | undefined;
  readonly #observer: ShareObserver;
  readonly #nodes: ShareNodes | undefined;
  /** Several nodes: the write path that takes turns with them. */
  readonly #turns: ShareTurns | undefined;

  constructor(options: {
    store: Store;
    loaded: LoadedShares;
    maxShareBytes: number;
    /** Quota over all shares (0: none); `usage` counts them when it is set. */
    maxTotalBytes: number;
    usage: ShareUsage | undefined;
    observer: ShareObserver;
    /** Several nodes share the store: writes take turns (share-nodes.ts). */
    nodes?: ShareNodes | undefined;
  }) {
    this.#nodes = options.nodes;
    this.#turns =
      options.nodes === undefined
        ? undefined
        : new ShareTurns({
            store: options.store,
            loaded: options.loaded,
            nodes: options.nodes,
            usage: options.usage,
            observer: options.observer,
            fail: (share, error) => this.#fail(share, error),
          });
    this.#store = options.store;
    this.#loaded = options.loaded;
    this.#maxShareBytes = options.maxShareBytes;
    this.#maxTotalBytes = options.maxTotalBytes;
    this.#usage = options.usage;
    this.#observer = options.observer;
  }

  /**
   * Applies `prepared` to `share` (the caller checked it is the one in memory, in this turn):
   * resolves once its writes are durable and broadcast, or once an equal write in flight is.
   */
  async publish(share: LiveShare, prepared: PreparedItems): Promise<PublishResult> {
    const started = performance.now();
    checkPublishable(share, prepared);
    // Checked against the in-flight state, then planned in the same turn: concurrent syncs
    // each see the growth of those planned before them.
    const growth = share.state.growth(prepared.writes);
    const current = share.state.plannedBytes;
    if (growth > 0 && current + growth > this.#maxShareBytes) {
      throw shareTooLarge(share.id, current, growth, this.#maxShareBytes);
    }
    this.#checkQuota(share, growth);
    if (growth > 0) this.#loaded.makeRoom("share sync", share.id, growth, share);
    this.#observer.published?.();
    if (this.#nodes !== undefined) return this.#publishInTurn(share, prepared, growth, started);
    const planned = share.state.plan(prepared.writes);
    this.#loaded.count(share);
    const writtenAt = Date.now();
    if (planned.length > 0) this.#usage?.wrote(share.id, growth, writtenAt);
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
      checkStillServing(share);
      return answer(share.state.seq);
    }
    const seq = (planned[planned.length - 1] as { seq: number }).seq;
    share.inFlight++;
    try {
      await this.#writeThenBroadcast(share, planned, seq, started, writtenAt);
      return answer(seq);
    } finally {
      share.inFlight--;
      share.lastUsed = Date.now();
      if (share.phase.name === "failed" && share.inFlight === 0) this.#loaded.drop(share);
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
    writtenAt: number,
  ): Promise<void> {
    // Issued now, in seq order: the store applies writes in call order and commits those of one
    // turn together, so concurrent syncs share a flush.
    const written = this.#store.write(writeOps(share.id, planned, seq, writtenAt)).then(
      () => undefined,
      (error: unknown) => error ?? new Error("write failed"),
    );
    const step = share.tail.then(async () => {
      const failure = await written;
      if (failure !== undefined) {
        this.#fail(share, failure);
        throw storageFailed("share sync", share.id, failure);
      }
      // Durable. A failed (being reloaded), deleting or deleted share is not broadcast to any
      // more; an evicted copy still commits, so that a sync waiting on it answers this seq.
      if (!receivesWrites(share)) return;
      share.fanout.broadcast(share.state.commit(planned));
      this.#observer.broadcast?.((performance.now() - started) / 1000);
    });
    share.tail = step.catch(() => undefined);
    return step;
  }

  /** With several nodes: the sync takes its turn (share-turns.ts). */
  async #publishInTurn(
    share: LiveShare,
    prepared: PreparedItems,
    growth: number,
    started: number,
  ): Promise<PublishResult> {
    share.inFlight++;
    try {
      return await (this.#turns as ShareTurns).publish(share, prepared, growth, started);
    } finally {
      share.inFlight--;
      share.lastUsed = Date.now();
      if (share.phase.name === "failed" && share.inFlight === 0) this.#loaded.drop(share);
    }
  }

  /** Throws 507 when growing `share` by `growth` would take all shares over the quota. */
  #checkQuota(share: LiveShare, growth: number): void {
    const usage = this.#usage;
    if (growth <= 0 || usage === undefined || this.#maxTotalBytes === 0) return;
    if (usage.total + growth > this.#maxTotalBytes) {
      throw shareQuotaExceeded(share.id, usage.total, growth, this.#maxTotalBytes);
    }
  }

  /** A write failed: the memory state is ahead of the store, so viewers reconnect to a reload. */
  #fail(share: LiveShare, error: unknown): void {
    if (!receivesWrites(share)) return;
    moveShare(share, { name: "failed" });
    this.#observer.error?.(error, `share ${share.id} write`);
    share.fanout.closeAll(reloadCloseCode, reloadCloseReason);
  }
}

/** Throws the answer to a sync that must not be applied: items too large, share gone or failed. */
function checkPublishable(share: LiveShare, prepared: PreparedItems): void {
  if (prepared.tooLarge.length > 0) {
    const first = prepared.tooLarge[0] as ItemProblem;
    const more = prepared.tooLarge.length > 1 ? ` (and ${prepared.tooLarge.length - 1} more)` : "";
    throw tooLarge(`share sync: ${first.reason}${more}; nothing was applied`, prepared.tooLarge);
  }
  checkStillServing(share);
}

/** Throws the answer to a sync of a share that is failed, being deleted or deleted. */
function checkStillServing(share: LiveShare): void {
  const { name } = share.phase;
  if (name === "deleted") throw shareNotFound("share sync", share.id);
  if (name === "deleting") throw shareDeleting("share sync", share.id);
  if (name === "failed") throw storageFailed("share sync", share.id, FAILED_REASON);
}

/**
 * True while the writes issued to `share` still commit: live, or evicted (a share is let go with
 * writes in flight only at shutdown, and those writes then end as they would have).
 */
function receivesWrites(share: LiveShare): boolean {
  return share.phase.name === "live" || share.phase.name === "evicted";
}
