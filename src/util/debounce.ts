// Trailing-edge debounce with a maxWait bound: a burst of changes becomes one call, and a steady
// stream of changes still gets a call at least every maxWait (hocuspocus debounces durable writes
// the same way).

/** Timing for `createDebounce`. */
export interface DebounceOptions {
  /** Quiet time after the last trigger before the call, in milliseconds; required. */
  wait: number;
  /**
   * Longest time from the first trigger of a burst to the call, in milliseconds, however often
   * triggers keep coming. Default: no bound (a steady stream can postpone the call forever).
   */
  maxWait?: number;
  /**
   * Receives what a timer-started call throws or rejects with, since no caller is there to catch
   * it. Default: none, so the error surfaces as an uncaught exception or unhandled rejection.
   * Calls made by `flush()` return their result (or throw) to the caller instead.
   */
  onError?: (error: unknown) => void;
}

/** A debounced call; see `createDebounce`. */
export interface Debounce<R> {
  /** Schedules the call, restarting the `wait` timer (but never past `maxWait` of the burst). */
  trigger(): void;
  /** Runs a pending call now and returns what `fn` returns; `undefined` if nothing is pending. */
  flush(): R | undefined;
  /** Drops a pending call without running it. */
  cancel(): void;
  /** True between a trigger and the call (or cancel). */
  readonly pending: boolean;
}

/**
 * Debounces `fn` on the trailing edge. `fn` is called with no arguments: callers keep the state to
 * act on (e.g. a dirty set) themselves. A trigger during a running `fn` starts a new burst. If
 * `fn` is async, calls are not serialised: a slow call may still be running when the next starts.
 */
export function createDebounce<R>(fn: () => R, options: DebounceOptions): Debounce<R> {
  const { wait, maxWait, onError } = options;
  assertDelay("wait", wait);
  if (maxWait !== undefined) assertDelay("maxWait", maxWait);

  let waitTimer: ReturnType<typeof setTimeout> | undefined;
  let maxTimer: ReturnType<typeof setTimeout> | undefined;
  let pending = false;

  const clearTimers = () => {
    clearTimeout(waitTimer);
    clearTimeout(maxTimer);
    waitTimer = undefined;
    maxTimer = undefined;
  };

  const run = (): R => {
    clearTimers();
    pending = false;
    return fn();
  };

  const runFromTimer = () => {
    if (onError === undefined) {
      run();
      return;
    }
    try {
      const result: unknown = run();
      if (isPromiseLike(result)) result.then(undefined, onError);
    } catch (error) {
      onError(error);
    }
  };

  return {
    trigger() {
      if (!pending) {
        pending = true;
        if (maxWait !== undefined) maxTimer = setTimeout(runFromTimer, maxWait);
      }
      clearTimeout(waitTimer);
      waitTimer = setTimeout(runFromTimer, wait);
    },
    flush() {
      return pending ? run() : undefined;
    },
    cancel() {
      clearTimers();
      pending = false;
    },
    get pending() {
      return pending;
    },
  };
}

function assertDelay(name: string, value: number): void {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new RangeError(`debounce: ${name} ${String(value)} is not a finite number >= 0`);
  }
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === "object" || typeof value === "function") &&
    value !== null &&
    typeof (value as { then?: unknown }).then === "function"
  );
}
