// What all stored shares hold, and when each was last written: for the storage quota over all
// shares (share_total_max_bytes) and expiry (share_expire_after_ms). Read once from the store at
// start, then kept by the write path (sizes counted as share-state.ts's contentBytes does): a sync counts its growth when it is planned (so concurrent
// syncs see each other, as the per-share limit does), a load re-counts the share from what the
// store holds, a delete forgets it. One number and one time per share, whatever its size.

import type { ShareId } from "../protocol/share-items.js";
import type { Store } from "../storage/store.js";
import { readWrittenAt, shareRoot } from "./share-storage.js";

interface Usage {
  bytes: number;
  writtenAt: number;
}

/** Bytes and last-write times of every stored share. */
export class ShareUsage {
  readonly #shares = new Map<ShareId, Usage>();
  readonly #onTotal: (bytes: number) => void;
  #total = 0;

  constructor(onTotal: (bytes: number) => void = () => {}) {
    this.#onTotal = onTotal;
  }

  /** Bytes of content JSON of all shares, writes in flight counted. */
  get total(): number {
    return this.#total;
  }

  /**
   * Reads every share's content size and last write from the store (the time of the scan for
   * shares stored before writes were timed, so that none expires at once on upgrade).
   */
  async scan(store: Store, now: number): Promise<void> {
    for await (const { key, value } of store.range([shareRoot])) {
      const [, id, kind] = key as [string, ShareId, string];
      if (id === undefined) continue;
      const usage = this.#usage(id, now);
      // The stored JSON text's UTF-8 bytes: what contentBytes counts for it.
      if (kind === "item") usage.bytes += value.byteLength;
      else if (kind === "written") usage.writtenAt = readWrittenAt(value) ?? now;
    }
    this.#recount();
  }

  /** A share was created (nothing in it yet). */
  created(id: ShareId, now: number): void {
    this.#shares.set(id, { bytes: 0, writtenAt: now });
    this.#onTotal(this.#total);
  }

  /** A sync was planned that changes the share's content by `growth` bytes (may be negative). */
  wrote(id: ShareId, growth: number, now: number): void {
    const usage = this.#usage(id, now);
    usage.bytes += growth;
    usage.writtenAt = now;
    this.#total += growth;
    this.#onTotal(this.#total);
  }

  /** A share was read from the store, holding `bytes`: its count follows the store. */
  loaded(id: ShareId, bytes: number, now: number): void {
    const usage = this.#usage(id, now);
    this.#total += bytes - usage.bytes;
    usage.bytes = bytes;
    this.#onTotal(this.#total);
  }

  /** A share was deleted. */
  deleted(id: ShareId): void {
    const usage = this.#shares.get(id);
    if (!usage) return;
    this.#shares.delete(id);
    this.#total -= usage.bytes;
    this.#onTotal(this.#total);
  }

  /** Shares last written before `before` (ms since the epoch), oldest first. */
  writtenBefore(before: number): ShareId[] {
    return [...this.#shares]
      .filter(([, usage]) => usage.writtenAt < before)
      .sort(([, a], [, b]) => a.writtenAt - b.writtenAt)
      .map(([id]) => id);
  }

  /** True while `id` is known and was last written before `before`. */
  isWrittenBefore(id: ShareId, before: number): boolean {
    const usage = this.#shares.get(id);
    return usage !== undefined && usage.writtenAt < before;
  }

  #usage(id: ShareId, now: number): Usage {
    let usage = this.#shares.get(id);
    if (!usage) {
      usage = { bytes: 0, writtenAt: now };
      this.#shares.set(id, usage);
    }
    return usage;
  }

  #recount(): void {
    this.#total = 0;
    for (const usage of this.#shares.values()) this.#total += usage.bytes;
    this.#onTotal(this.#total);
  }
}
