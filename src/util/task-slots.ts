// A counting semaphore for document tasks: at most `size` run at once, the rest wait in order.

/** Slots for concurrent tasks. */
export interface TaskSlots {
  /** Resolves once a slot is free (at once when one is). */
  acquire(): Promise<void>;
  /** Frees a slot, handing it to the longest waiter if any. */
  release(): void;
  /** Slots in use now. */
  readonly active: number;
}

/** Creates `size` slots (at least one). */
export function createTaskSlots(size: number): TaskSlots {
  const max = Math.max(1, Math.floor(size));
  const waiters: (() => void)[] = [];
  let active = 0;
  return {
    acquire() {
      if (active < max) {
        active += 1;
        return Promise.resolve();
      }
      return new Promise<void>((resolve) => waiters.push(resolve));
    },
    release() {
      const next = waiters.shift();
      if (next) next();
      else active = Math.max(0, active - 1);
    },
    get active() {
      return active;
    },
  };
}
