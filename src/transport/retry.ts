// Retrying a request to a server the same way everywhere: only failures the error table (or the
// failure itself) calls retryable, after a full-jitter backoff, each retry told to the caller
// first (so a command can say "retrying in N s"), until the attempts or the signal run out.

import { createError, isSynclineError, type SynclineError } from "../protocol/errors.js";
import { type BackoffOptions, createBackoff } from "../util/backoff.js";

/** A retry about to happen: which attempt comes next, after how long, and why. */
export interface RetryInfo {
  /** The attempt that starts after the delay: 2 for the first retry. */
  readonly attempt: number;
  readonly delayMs: number;
  /** What made the previous attempt fail. */
  readonly error: SynclineError;
}

/** How patiently to retry. */
export interface RetryOptions {
  /** Attempts after the first. */
  readonly retries: number;
  /** Told before each retry. */
  readonly onRetry?: ((info: RetryInfo) => void) | undefined;
  /** Stops waiting between attempts (and makes the next attempt the last). */
  readonly signal?: AbortSignal | undefined;
  readonly backoff?: Partial<BackoffOptions> | undefined;
}

/** True when trying again may help: a SynclineError the table or its maker calls retryable. */
export function isRetryable(error: unknown): boolean {
  return isSynclineError(error) && error.retryable;
}

/**
 * Runs `attempt` until it succeeds, fails in a way retrying cannot help, or `retries` retries
 * have failed (the last error is thrown, "(gave up after N attempts)" added to its message).
 */
export async function withRetries<T>(
  attempt: (signal: AbortSignal | undefined) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  const backoff = createBackoff(options.backoff);
  for (let number = 1; ; number++) {
    try {
      return await attempt(options.signal);
    } catch (error) {
      if (!isRetryable(error) || options.signal?.aborted) throw error;
      const failure = error as SynclineError;
      if (number > options.retries) throw gaveUp(failure, number);
      const delayMs = backoff.next();
      options.onRetry?.({ attempt: number + 1, delayMs, error: failure });
      await sleep(delayMs, options.signal);
    }
  }
}

/** `error` with how many attempts were made, when there was more than one. */
export function gaveUp(error: SynclineError, attempts: number): SynclineError {
  if (attempts === 1) return error;
  return createError(error.code, `${error.message} (gave up after ${attempts} attempts)`, {
    cause: error,
    status: error.status,
    closeCode: error.closeCode,
    retryable: error.retryable,
    exitCode: error.exitCode,
  });
}

/** Waits `ms`, or less when `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
