// What the server remembers of deleted shares, so that a client asking for one is told "deleted"
// (410) rather than "never existed" (404) until the id is created again. One small record per id,
// under ["share-tombstone", <id>] → the deletion time (decimal ms), beside the shares and not
// under their prefix (a share's delete removes its prefix). Bounded twice: a tombstone expires
// after `share_tombstone_ms`, and past `share_tombstone_max` the oldest go first, so a client
// creating and deleting shares in a loop cannot grow them without bound.

import type { ShareId } from "../protocol/share-items.js";
import type { Store, StoreKey, StoreOp } from "../storage/store.js";

/** The first segment of every tombstone record. */
export const tombstoneRoot = "share-tombstone";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export const tombstoneKey = (id: ShareId): StoreKey => [tombstoneRoot, id];

/** The op that forgets `id`'s tombstone: part of the batch that creates the share again. */
export function clearTombstoneOp(id: ShareId): StoreOp {
  return { type: "delete", key: tombstoneKey(id) };
}

/** How long tombstones are kept and how many. */
export interface TombstoneLimits {
  /** A tombstone older than this is forgotten, ms (0: none are kept). */
  readonly shareTombstoneMs: number;
  /** Most tombstones kept; past it the oldest are forgotten (0: none are kept). */
  readonly shareTombstoneMax: number;
}

/** The deleted shares the server remembers, in memory (deletion order) and in the store. */
export class ShareTombstones {
  /** id → deletion time; Map order is insertion order, which is deletion order. */
  readonly #deleted = new Map<ShareId, number>();
  readonly #store: Store;
  readonly #limits: TombstoneLimits;

  readonly #onCount: (count: number) => void;

  constructor(store: Store, limits: TombstoneLimits, onCount: (count: number) => void = () => {}) {
    this.#store = store;
    this.#limits = limits;
    this.#onCount = onCount;
  }

  /** How many are remembered now. */
  get size(): number {
    return this.#deleted.size;
  }

  /**
   * Reads the stored tombstones (oldest first), forgetting those expired or over the cap. Writing
   * that down is best effort (`onTrimFailed`): a store that refuses writes (a full disk) must not
   * keep the server from starting, and the next delete's write trims again.
   */
  async load(now: number, onTrimFailed: (error: unknown) => void): Promise<void> {
    const found: [ShareId, number][] = [];
    for await (const { key, value } of this.#store.range([tombstoneRoot])) {
      const id = key[1] as ShareId | undefined;
      const at = Number(decoder.decode(value));
      if (id !== undefined && Number.isSafeInteger(at)) found.push([id, at]);
    }
    found.sort((a, b) => a[1] - b[1]);
    this.#deleted.clear();
    for (const [id, at] of found) this.#deleted.set(id, at);
    const forgotten = this.#trim(now);
    this.#onCount(this.#deleted.size);
    if (forgotten.length > 0) await this.#store.write(forgotten).catch(onTrimFailed);
  }

  /** When share `id` was deleted, if it is remembered (not expired) now. */
  deletedAt(id: ShareId, now: number): number | undefined {
    const at = this.#deleted.get(id);
    if (at === undefined) return undefined;
    return now - at < this.#limits.shareTombstoneMs ? at : undefined;
  }

  /**
   * Remembers that `id` was deleted at `now` (durably; a failed write leaves it remembered in
   * memory only), forgetting in the same write the tombstones expired or over the cap.
   */
  async add(id: ShareId, now: number): Promise<void> {
    this.#deleted.delete(id);
    const ops: StoreOp[] = [];
    if (this.#limits.shareTombstoneMax > 0 && this.#limits.shareTombstoneMs > 0) {
      this.#deleted.set(id, now);
      ops.push({ type: "put", key: tombstoneKey(id), value: encoder.encode(String(now)) });
    }
    ops.push(...this.#trim(now));
    this.#onCount(this.#deleted.size);
    if (ops.length > 0) await this.#store.write(ops);
  }

  /** Another node deleted `id` at `at` and stored its tombstone: remembered here too. */
  remember(id: ShareId, at: number): void {
    if (this.#limits.shareTombstoneMax === 0 || this.#limits.shareTombstoneMs === 0) return;
    this.#deleted.delete(id);
    this.#deleted.set(id, at);
    this.#onCount(this.#deleted.size);
  }

  /** The share was created again: forgotten here (the create's batch deletes the record). */
  cleared(id: ShareId): void {
    if (this.#deleted.delete(id)) this.#onCount(this.#deleted.size);
  }

  /** Forgets the oldest tombstones while expired or over the cap; returns their store deletes. */
  #trim(now: number): StoreOp[] {
    const ops: StoreOp[] = [];
    const { shareTombstoneMs, shareTombstoneMax } = this.#limits;
    for (const [id, at] of this.#deleted) {
      if (this.#deleted.size <= shareTombstoneMax && now - at < shareTombstoneMs) break;
      this.#deleted.delete(id);
      ops.push({ type: "delete", key: tombstoneKey(id) });
    }
    return ops;
  }
}
