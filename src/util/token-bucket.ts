// Token buckets by key (a client address): each holds up to `burst` tokens and refills at
// `perMinute` a minute. Full buckets are forgotten now and then, which changes nothing (a missing
// bucket is a full one), so memory follows the keys active within one refill time.

/** How the buckets fill, and the clock (tests inject one). */
export interface TokenBucketOptions {
  readonly burst: number;
  readonly perMinute: number;
  readonly now?: () => number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** Forget full buckets at most this often, and only once there are this many. */
const pruneEveryMs = 10_000;
const pruneAbove = 1000;

/** A set of token buckets, one per key. */
export class TokenBuckets {
  readonly #burst: number;
  readonly #perMs: number;
  readonly #now: () => number;
  readonly #buckets = new Map<string, Bucket>();
  #prunedAt = 0;

  constructor(options: TokenBucketOptions) {
    if (!(options.burst >= 1) || !(options.perMinute > 0)) {
      throw new RangeError(
        `token buckets: burst ${options.burst} and perMinute ${options.perMinute} must be positive`,
      );
    }
    this.#burst = options.burst;
    this.#perMs = options.perMinute / 60_000;
    this.#now = options.now ?? Date.now;
  }

  /** Keys with a bucket that is not full (or not yet pruned). */
  get size(): number {
    return this.#buckets.size;
  }

  /** Takes a token of `key`: 0 when taken, else the ms until one will be there (none taken). */
  take(key: string): number {
    const wait = this.waitFor(key);
    if (wait === 0) this.spend(key);
    return wait;
  }

  /** The ms until `key` has a token (0: it has one now). */
  waitFor(key: string): number {
    const tokens = this.#tokens(key, this.#now());
    return tokens >= 1 ? 0 : Math.ceil((1 - tokens) / this.#perMs);
  }

  /** Takes a token of `key` if it has one (a failure counted after the fact). */
  spend(key: string): void {
    const now = this.#now();
    this.#prune(now);
    const tokens = this.#tokens(key, now);
    this.#buckets.set(key, { tokens: Math.max(0, tokens - 1), at: now });
  }

  #tokens(key: string, now: number): number {
    const bucket = this.#buckets.get(key);
    if (!bucket) return this.#burst;
    return Math.min(this.#burst, bucket.tokens + (now - bucket.at) * this.#perMs);
  }

  #prune(now: number): void {
    if (this.#buckets.size < pruneAbove || now - this.#prunedAt < pruneEveryMs) return;
    this.#prunedAt = now;
    for (const [key] of this.#buckets) {
      if (this.#tokens(key, now) >= this.#burst) this.#buckets.delete(key);
    }
  }
}
