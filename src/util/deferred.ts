// A promise with its resolve and reject functions handed out, for settling from elsewhere (a
// reply that arrives on a socket, a shutdown that completes later).

/** A promise and the functions that settle it. */
export interface Deferred<T> {
  /** Settles when `resolve` or `reject` is first called. */
  readonly promise: Promise<T>;
  /** Resolves `promise`; later calls of `resolve` or `reject` are ignored. */
  resolve(value: T | PromiseLike<T>): void;
  /** Rejects `promise`; later calls of `resolve` or `reject` are ignored. */
  reject(reason?: unknown): void;
  /**
   * True once `resolve` or `reject` has been called: the outcome is decided, even if a thenable
   * passed to `resolve` has not finished yet.
   */
  readonly settled: boolean;
}

/** Creates a Deferred (Promise.withResolvers, which Node 20 lacks, plus `settled`). */
export function createDeferred<T>(): Deferred<T> {
  let resolvePromise!: (value: T | PromiseLike<T>) => void;
  let rejectPromise!: (reason?: unknown) => void;
  const promise = new Promise<T>((resolve, reject) => {
    resolvePromise = resolve;
    rejectPromise = reject;
  });
  let settled = false;
  return {
    promise,
    resolve(value) {
      if (settled) return;
      settled = true;
      resolvePromise(value);
    },
    reject(reason) {
      if (settled) return;
      settled = true;
      rejectPromise(reason);
    },
    get settled() {
      return settled;
    },
  };
}
