// The server-wide memory budget of loaded shares (share_memory_budget): the JSON bytes of content
// every loaded share holds, summed, and which idle shares to evict, least recently used first, to
// make room for more. Pure bookkeeping: loaded-shares.ts decides what is idle, evicts and refuses.

/** What the budget needs to know of a loaded share to choose it for eviction. */
export interface EvictionCandidate {
  /** When the share was last used (a request, a viewer joining or leaving), ms. */
  readonly lastUsed: number;
}

/** The content bytes of the loaded shares, against a budget. */
export class ShareMemory<S extends EvictionCandidate> {
  /** The budget, bytes; Infinity for none. */
  readonly budget: number;
  readonly #bytes = new Map<S, number>();
  readonly #onTotal: ((total: number) => void) | undefined;
  #total = 0;

  constructor(budget: number, onTotal?: (total: number) => void) {
    this.budget = budget;
    this.#onTotal = onTotal;
  }

  /** Bytes of content the loaded shares hold now, writes in flight counted. */
  get total(): number {
    return this.#total;
  }

  /** Records that `share` (loaded) now holds `bytes`. */
  set(share: S, bytes: number): void {
    const before = this.#bytes.get(share) ?? 0;
    this.#bytes.set(share, bytes);
    this.#add(bytes - before);
  }

  /** Forgets `share`: it left memory. */
  delete(share: S): void {
    const bytes = this.#bytes.get(share);
    if (bytes === undefined) return;
    this.#bytes.delete(share);
    this.#add(-bytes);
  }

  /** True when `extra` more bytes fit in the budget. */
  fits(extra: number): boolean {
    return this.#total + extra <= this.budget;
  }

  /**
   * The shares to evict so that `extra` more bytes fit: from `idle`, least recently used first,
   * no more than needed. Empty when they fit already; undefined when evicting every idle share
   * would still not make room (then evicting any would only cost reloads).
   */
  evictionsFor(extra: number, idle: Iterable<S>): S[] | undefined {
    let over = this.#total + extra - this.budget;
    if (over <= 0) return [];
    const evict: S[] = [];
    for (const share of [...idle].sort((a, b) => a.lastUsed - b.lastUsed)) {
      const bytes = this.#bytes.get(share);
      if (!bytes) continue; // holds nothing counted: evicting it would not make room
      evict.push(share);
      over -= bytes;
      if (over <= 0) return evict;
    }
    return undefined;
  }

  #add(delta: number): void {
    if (delta === 0) return;
    this.#total += delta;
    this.#onTotal?.(this.#total);
  }
}
