// The write path of a share when several nodes share the store: the node's syncs of a share are
// planned, written and broadcast on the share's tail, so each write is planned on a copy that is
// current, and the store tells by the seq it expects (share-nodes.ts turnOps) whether another
// node wrote first. The syncs that arrive while a turn runs wait together and take the next turn
// as one write, as on one node they share a commit: a node's throughput per share does not fall to
// one round trip to the database per sync, and two busy nodes contend once per batch, not once
// per sync. A refused turn catches up from the store's log and tries again.

import { setTimeout as sleep } from "node:timers/promises";
import { createError, isSynclineError } from "../protocol/errors.js";
import type { Store } from "../storage/store.js";
import type { LiveShare } from "./live-share.js";
import type { LoadedShares } from "./loaded-shares.js";
import { shareDeleting, shareNotFound, storageFailed } from "./share-errors.js";
import type { ShareObserver } from "./share-hub-options.js";
import type { ShareNodes } from "./share-nodes.js";
import type { PublishResult } from "./share-publisher.js";
import type { PlannedWrite } from "./share-state.js";
import { writeOps } from "./share-storage.js";
import type { ShareUsage } from "./share-usage.js";
import type { PreparedItems } from "./sync-items.js";

/**
 * Turns a batch tries before its syncs are answered 503: each refused turn means another node
 * wrote first, and the next one starts from what it wrote.
 */
const maxTurns = 12;

/** One sync waiting for its share's next turn. */
interface WaitingSync {
  readonly prepared: PreparedItems;
  readonly growth: number;
  readonly started: number;
  resolve(result: PublishResult): void;
  reject(error: unknown): void;
}

/** What the turns need of the publisher around them. */
export interface ShareTurnsHost {
  readonly store: Store;
  readonly loaded: LoadedShares;
  readonly nodes: ShareNodes;
  readonly usage: ShareUsage | undefined;
  readonly observer: ShareObserver;
  /** A write failed: the share fails, its viewers reconnect to a reload. */
  fail(share: LiveShare, error: unknown): void;
}

/** The write path of every share of a node that shares its store with others. */
export class ShareTurns {
  readonly #host: ShareTurnsHost;
  /** Syncs waiting for a share's next turn (whose step is already on the share's tail). */
  readonly #waiting = new WeakMap<LiveShare, WaitingSync[]>();

  constructor(host: ShareTurnsHost) {
    this.#host = host;
  }

  /** Resolves once `prepared` is durable and broadcast (its turn, or an equal write's). */
  publish(
    share: LiveShare,
    prepared: PreparedItems,
    growth: number,
    started: number,
  ): Promise<PublishResult> {
    return new Promise<PublishResult>((resolve, reject) => {
      let waiting = this.#waiting.get(share);
      if (waiting === undefined) {
        waiting = [];
        this.#waiting.set(share, waiting);
        const step = share.tail.then(() => this.#takeTurns(share));
        share.tail = step.catch(() => undefined);
      }
      waiting.push({ prepared, growth, started, resolve, reject });
    });
  }

  /** Runs the next turn of `share` for every sync waiting for it. */
  async #takeTurns(share: LiveShare): Promise<void> {
    const batch = this.#waiting.get(share) ?? [];
    this.#waiting.delete(share); // syncs arriving from now on wait for the turn after this one
    try {
      const results = await this.#turns(share, batch);
      for (const [index, sync] of batch.entries()) sync.resolve(results[index] as PublishResult);
    } catch (error) {
      for (const sync of batch) sync.reject(error);
    }
  }

  async #turns(share: LiveShare, batch: readonly WaitingSync[]): Promise<PublishResult[]> {
    const { nodes, store, loaded } = this.#host;
    for (let turn = 1; ; turn++) {
      checkLive(share);
      if (nodes.behind(share)) await this.#catchUp(share);
      const plans = batch.map((sync) => share.state.plan(sync.prepared.writes));
      const planned = plans.flat();
      loaded.count(share);
      if (planned.length > 0) {
        const seq = (planned[planned.length - 1] as PlannedWrite).seq;
        const writtenAt = Date.now();
        try {
          await store.write([
            ...writeOps(share.id, planned, seq, writtenAt),
            ...nodes.turnOps(share.id, planned),
          ]);
        } catch (error) {
          share.state.abandonPlans();
          loaded.count(share);
          if (!isSynclineError(error, "ERR_STORE_CONFLICT")) {
            this.#host.fail(share, error);
            throw storageFailed("share sync", share.id, error);
          }
          if (turn === maxTurns) throw error;
          await this.#catchUp(share);
          // Two nodes refused in turn back off a little, differently, so one of them goes first.
          await sleep(Math.random() * turn);
          continue;
        }
        const growth = batch.reduce((total, sync) => total + sync.growth, 0);
        this.#host.usage?.wrote(share.id, growth, writtenAt);
        share.fanout.broadcast(share.state.commit(planned));
        const now = performance.now();
        for (const sync of batch) this.#host.observer.broadcast?.((now - sync.started) / 1000);
        nodes.announceWrites(share.id, planned);
      }
      // A sync whose items changed nothing is answered with the share's seq now, as on one node.
      return batch.map((sync, index) => {
        const own = plans[index] as PlannedWrite[];
        return {
          seq: own.length > 0 ? (own[own.length - 1] as PlannedWrite).seq : share.state.seq,
          accepted: sync.prepared.writes.length,
          written: own.length,
          ignored: sync.prepared.ignored,
        };
      });
    }
  }

  /** Brings `share` up to the store; throws the syncs' answer when it cannot be. */
  async #catchUp(share: LiveShare): Promise<void> {
    const { nodes } = this.#host;
    const outcome = await nodes.catchUp(share);
    if (outcome === "deleted") {
      nodes.settle(share, outcome);
      throw shareNotFound("share sync", share.id);
    }
    if (outcome === "stale") {
      this.#host.fail(share, new Error("another node wrote more than the store's log holds"));
      throw createError(
        "ERR_STORE_CONFLICT",
        `share sync: share ${share.id} was written through other nodes beyond what this node can catch up on; it is reloaded`,
      );
    }
  }
}

/** Throws the answer to a sync of a share that no longer takes writes. */
function checkLive(share: LiveShare): void {
  const { name } = share.phase;
  if (name === "deleted") throw shareNotFound("share sync", share.id);
  if (name === "deleting") throw shareDeleting("share sync", share.id);
  if (name === "failed") {
    throw storageFailed(
      "share sync",
      share.id,
      "an earlier write failed and the share is being reloaded",
    );
  }
}
