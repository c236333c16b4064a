// Full-jitter exponential backoff ("Exponential Backoff and Jitter", AWS): reconnecting clients
// spread out instead of stampeding a server that just came back.

/** How the backoff ceiling grows; `backoffDelay` draws uniformly below the ceiling. */
export interface BackoffOptions {
  /** The ceiling for the first attempt (attempt 0), in milliseconds. Default 500. */
  initialMs: number;
  /** The largest ceiling any attempt reaches, in milliseconds. Default 15000. */
  maxMs: number;
  /** How much the ceiling grows per attempt; at least 1. Default 2. */
  factor: number;
}

/** The defaults: 500 ms, doubling, capped at 15 s. */
export const defaultBackoffOptions: Readonly<BackoffOptions> = Object.freeze({
  initialMs: 500,
  maxMs: 15_000,
  factor: 2,
});

/** A stateful backoff for one retry loop: `next()` after each failure, `reset()` on success. */
export interface Backoff {
  /** The delay before the next attempt, in milliseconds; advances the attempt counter. */
  next(): number;
  /** Starts again from attempt 0, e.g. once a connection is up. */
  reset(): void;
  /** How many delays `next()` has handed out since the last reset. */
  readonly attempt: number;
}

/**
 * The delay before retry number `attempt` (0-based): `random() * min(maxMs, initialMs * factor **
 * attempt)`, so always in [0, maxMs]. Throws RangeError for a negative or non-integer attempt or
 * invalid options.
 */
export function backoffDelay(
  attempt: number,
  options: Partial<BackoffOptions> = {},
  random: () => number = Math.random,
): number {
  if (!Number.isSafeInteger(attempt) || attempt < 0) {
    throw new RangeError(`backoff: attempt ${String(attempt)} is not a non-negative integer`);
  }
  return random() * backoffCeiling(attempt, resolveBackoffOptions(options));
}

/** Creates a stateful backoff; `random` is injectable so tests can pin the jitter. */
export function createBackoff(
  options: Partial<BackoffOptions> = {},
  random: () => number = Math.random,
): Backoff {
  const resolved = resolveBackoffOptions(options);
  let attempt = 0;
  return {
    next() {
      const delay = random() * backoffCeiling(attempt, resolved);
      attempt += 1;
      return delay;
    },
    reset() {
      attempt = 0;
    },
    get attempt() {
      return attempt;
    },
  };
}

function backoffCeiling(attempt: number, { initialMs, maxMs, factor }: BackoffOptions): number {
  // factor ** attempt overflows to Infinity for large attempts, and 0 * Infinity is NaN, so the
  // zero case and the cap are decided before the multiplication can poison the result.
  if (initialMs === 0 || maxMs === 0) return 0;
  const growth = factor ** attempt;
  return growth >= maxMs / initialMs ? maxMs : Math.min(maxMs, initialMs * growth);
}

function resolveBackoffOptions(options: Partial<BackoffOptions>): BackoffOptions {
  const resolved = { ...defaultBackoffOptions, ...withoutUndefined(options) };
  for (const name of ["initialMs", "maxMs"] as const) {
    const value = resolved[name];
    if (!Number.isFinite(value) || value < 0) {
      throw new RangeError(`backoff: ${name} ${String(value)} is not a finite number >= 0`);
    }
  }
  if (!Number.isFinite(resolved.factor) || resolved.factor < 1) {
    throw new RangeError(`backoff: factor ${String(resolved.factor)} is not a finite number >= 1`);
  }
  return resolved;
}

// `{ maxMs: undefined }` (an unset config field passed through) means "use the default".
function withoutUndefined(options: Partial<BackoffOptions>): Partial<BackoffOptions> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
}
