// Runs tasks one after another per key (tasks of different keys run freely): each starts once
// every earlier task of its key has settled, whether it succeeded or not. A key is forgotten once
// its last task settled, so the map holds only keys with work pending.

/** A queue of tasks per key. */
export class KeyedQueue<K> {
  readonly #tails = new Map<K, Promise<unknown>>();

  /** Runs `task` after every earlier task of `key`; resolves or rejects as it does. */
  run<T>(key: K, task: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const run = previous.then(task, task);
    const settled = run.catch(() => undefined);
    this.#tails.set(key, settled);
    void settled.then(() => {
      if (this.#tails.get(key) === settled) this.#tails.delete(key);
    });
    return run;
  }
}
