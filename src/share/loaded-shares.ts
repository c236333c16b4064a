// The shares held in memory: loaded from the store on demand (one read however many requests ask),
// counted against the server-wide memory budget (share-memory.ts), and let go when idle — by a
// periodic sweep, or sooner to make room for another. Also the guard against using a share that
// was evicted between its load and its use.

import type { ShareId } from "../protocol/share-items.js";
import type { Store } from "../storage/store.js";
import { createLiveShare, isIdle, type LiveShare, moveShare } from "./live-share.js";
import { memoryBudgetExceeded, storeOperation } from "./share-errors.js";
import type { ShareObserver, ShareSettings } from "./share-hub-options.js";
import { ShareMemory } from "./share-memory.js";
import { readShare, type StoredShare } from "./share-storage.js";
import type { ShareUsage } from "./share-usage.js";

/** Loads of a share evicted each time before it could be used, before the request gives up. */
const maxUseAttempts = 3;

/** The registry of loaded shares; `stopSweep()` it on shutdown. */
export class LoadedShares {
  readonly #store: Store;
  readonly #settings: ShareSettings;
  readonly #observer: ShareObserver;
  readonly #shares = new Map<ShareId, LiveShare>();
  readonly #loading = new Map<ShareId, Promise<LiveShare | undefined>>();
  readonly #memory: ShareMemory<LiveShare>;
  readonly #sweep: NodeJS.Timeout;
  readonly #usage: ShareUsage | undefined;
  readonly #withLog: boolean;

  constructor(options: {
    store: Store;
    settings: ShareSettings;
    observer: ShareObserver;
    /** Told each share's size as read, when the server counts all shares. */
    usage?: ShareUsage | undefined;
    /** Several nodes: read the writes logged in the store too (share-nodes.ts). */
    withLog?: boolean;
  }) {
    this.#usage = options.usage;
    this.#withLog = options.withLog === true;
    this.#store = options.store;
    this.#settings = options.settings;
    this.#observer = options.observer;
    this.#memory = new ShareMemory(options.settings.shareMemoryBudget, (bytes) =>
      this.#observer.loadedBytes?.(bytes),
    );
    // Often enough that an idle share leaves close to shareIdleEvictMs after its last use, never so
    // often that the sweep costs anything on a quiet server.
    const period = Math.max(250, Math.min(options.settings.shareIdleEvictMs / 2, 30_000));
    this.#sweep = setInterval(() => this.#evictIdle(), period);
    this.#sweep.unref();
  }

  /** Shares in memory now. */
  get size(): number {
    return this.#shares.size;
  }

  /** Bytes of content JSON the shares in memory hold now, writes in flight counted. */
  get bytes(): number {
    return this.#memory.total;
  }

  /** The share in memory, if it is; unlike `load`, it does not count as a use. */
  peek(id: ShareId): LiveShare | undefined {
    return this.#shares.get(id);
  }

  /** Every share in memory now. */
  all(): LiveShare[] {
    return [...this.#shares.values()];
  }

  /**
   * The share in memory, else loaded from the store (undefined: none stored). A load that would
   * pass the memory budget evicts idle shares or is refused, unless `overBudget`; a caller joining
   * a load already under way gets its outcome.
   */
  load(id: ShareId, overBudget = false): Promise<LiveShare | undefined> {
    const live = this.#shares.get(id);
    if (live) {
      live.lastUsed = Date.now();
      return Promise.resolve(live);
    }
    let loading = this.#loading.get(id);
    if (!loading) {
      loading = storeOperation("share load", id, () => readShare(this.#store, id, this.#withLog))
        .then((record) => (record ? this.#loaded(id, record, overBudget) : undefined))
        .finally(() => this.#loading.delete(id));
      this.#loading.set(id, loading);
    }
    return loading;
  }

  /**
   * Runs `use` on the share `load` gives, in the same turn as it checks that the share was not
   * evicted: one evicted in between (for the memory budget, or idle) must not take writes or
   * viewers that later requests, served by a copy loaded again, would not see; it is loaded
   * again. No share, or one failed or deleted, is handed to `use` as it is: `use` answers for it.
   */
  async use<S extends LiveShare | undefined, T>(
    load: () => Promise<S>,
    use: (share: S) => T | Promise<T>,
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const share = await load();
      if (share === undefined || share.phase.name !== "evicted") {
        return use(share);
      }
      if (attempt === maxUseAttempts) {
        const { total, budget } = this.#memory;
        throw memoryBudgetExceeded("share load", share.id, total, share.state.plannedBytes, budget);
      }
    }
  }

  /**
   * Makes room in the memory budget for `extra` more bytes of content by evicting idle shares
   * (no viewers, nothing in flight; never `keep`), least recently used first. When even that
   * would not make room it evicts none and throws a 503 — or, `overBudget`, lets it be passed.
   */
  makeRoom(context: string, id: ShareId, extra: number, keep?: LiveShare, overBudget = false) {
    if (this.#memory.fits(extra)) return;
    const idle = [...this.#shares.values()].filter((share) => share !== keep && isIdle(share));
    const evict = this.#memory.evictionsFor(extra, idle);
    if (evict === undefined) {
      if (overBudget) return;
      throw memoryBudgetExceeded(context, id, this.#memory.total, extra, this.#memory.budget);
    }
    for (const share of evict) this.drop(share);
  }

  /**
   * Counts what a share holds (durable content and writes in flight) in the budget; call it after
   * its state changed. A share no longer in memory (evicted, dropped) is not counted again.
   */
  count(share: LiveShare): void {
    if (this.#shares.get(share.id) === share) this.#memory.set(share, share.state.plannedBytes);
  }

  /**
   * Forgets `share` if it is still the one in memory: the next request loads it again. A live
   * share becomes `evicted`; a failed, deleting or deleted one keeps its phase.
   */
  drop(share: LiveShare): void {
    if (this.#shares.get(share.id) !== share) return;
    if (share.phase.name === "live") moveShare(share, { name: "evicted" });
    this.#shares.delete(share.id);
    this.#memory.delete(share);
    this.#observer.shareEvicted?.();
  }

  /** Stops the idle sweep (shutdown); shares stay until dropped. */
  stopSweep(): void {
    clearInterval(this.#sweep);
  }

  /** Puts a share read from the store in memory, making room for it in the memory budget. */
  #loaded(id: ShareId, record: StoredShare, overBudget: boolean): LiveShare {
    const share = createLiveShare(id, record, this.#settings, this.#observer);
    this.makeRoom("share load", id, share.state.plannedBytes, undefined, overBudget);
    // Nothing of it is in flight: what the store holds is what it holds.
    this.#usage?.loaded(id, share.state.bytes, Date.now());
    this.#shares.set(id, share);
    this.count(share);
    this.#observer.shareLoaded?.();
    return share;
  }

  #evictIdle(): void {
    const cutoff = Date.now() - this.#settings.shareIdleEvictMs;
    for (const share of this.#shares.values()) {
      if (isIdle(share) && share.lastUsed <= cutoff) this.drop(share);
    }
  }
}
