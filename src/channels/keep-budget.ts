// What the server may keep of channels' payloads, counted by announced size: OPEN's size is
// reserved when an upload starts (an unfinished or interrupted one included) and released only
// when its bytes are deleted, so uploads in parallel cannot pass a limit by being counted as the
// bytes they hold so far. A payload that fits neither the store nor the spool is relayed only.

import type { KeptIn } from "./channel-records.js";

/** The limits, named as the server's settings are (src/server/config.ts has their meanings). */
export interface KeepSettings {
  /** Largest payload kept in the store, bytes. */
  readonly retainBytes: number;
  /** Most bytes all items kept in the store may announce together. */
  readonly retainTotalBytes: number;
  /** Largest payload kept in the spool folder, bytes. */
  readonly spoolBytes: number;
  /** Most bytes all items kept in the spool may announce together. */
  readonly spoolTotalBytes: number;
}

/**
 * Every kept item counts at least this much, so that empty and tiny payloads cannot make the
 * number of items (and of store records and files) grow without bound under the limits.
 */
export const minimumItemCharge = 4096;

/** The ledger of kept bytes, by item. */
export class KeepBudget {
  readonly #settings: KeepSettings;
  readonly #items = new Map<string, { keptIn: KeptIn; charge: number }>();
  readonly #totals: Record<KeptIn, number> = { store: 0, spool: 0 };

  constructor(settings: KeepSettings) {
    this.#settings = settings;
  }

  /** Where a payload of `size` can be kept now: the store, else the spool, else nowhere. */
  choose(size: number): KeptIn | undefined {
    const charge = chargeOf(size);
    const { retainBytes, retainTotalBytes, spoolBytes, spoolTotalBytes } = this.#settings;
    if (size <= retainBytes && this.#totals.store + charge <= retainTotalBytes) return "store";
    if (size <= spoolBytes && this.#totals.spool + charge <= spoolTotalBytes) return "spool";
    return undefined;
  }

  /** Counts item `id` (reserving again an id already counted changes nothing). */
  reserve(id: string, keptIn: KeptIn, size: number): void {
    if (this.#items.has(id)) return;
    const charge = chargeOf(size);
    this.#items.set(id, { keptIn, charge });
    this.#totals[keptIn] += charge;
  }

  /** Where item `id` is counted, or undefined when it is not. */
  bucketOf(id: string): KeptIn | undefined {
    return this.#items.get(id)?.keptIn;
  }

  /** Stops counting item `id` (its bytes are gone); unknown ids are ignored. */
  release(id: string): void {
    const item = this.#items.get(id);
    if (!item) return;
    this.#items.delete(id);
    this.#totals[item.keptIn] -= item.charge;
  }

  /** The bytes counted in `keptIn` now. */
  total(keptIn: KeptIn): number {
    return this.#totals[keptIn];
  }
}

function chargeOf(size: number): number {
  return Math.max(size, minimumItemCharge);
}
