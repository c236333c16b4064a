// Group commit: the durable writes of many documents and sockets are queued and issued as one
// store.write, so a burst of 1,000 documents costs a handful of commits (and fsyncs), not 1,000.

import type { Store, StoreOp } from "../storage/store.js";

/** Queues writes and issues them in order, one batch per store.write. */
export interface GroupCommit {
  /** Queues `ops`; resolves once they are durable (rejects if their batch failed). */
  write(ops: readonly StoreOp[]): Promise<void>;
  /** Resolves once every write queued so far has settled. */
  flush(): Promise<void>;
  /** Writes queued and not yet durable. */
  readonly pending: number;
}

/** Observes each batch, for the save-latency metric. */
export type BatchObserver = (batch: { ops: number; writes: number; seconds: number }) => void;

interface Waiter {
  readonly ops: readonly StoreOp[];
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Creates a group commit on `store`. While one batch is being committed the next one fills; it
 * is issued as soon as the previous commit returns (or on the next turn when idle), so latency
 * stays one commit while throughput follows the store's commit rate. Batches never exceed
 * `maxOps` operations, which keeps one commit from growing without bound.
 */
export function createGroupCommit(
  store: Store,
  options: { maxOps?: number; observe?: BatchObserver } = {},
): GroupCommit {
  const maxOps = options.maxOps ?? 4096;
  let queue: Waiter[] = [];
  let inFlight: Promise<void> | undefined;
  let scheduled = false;
  let pending = 0;

  const take = (): Waiter[] => {
    let count = 0;
    let end = 0;
    while (
      end < queue.length &&
      (end === 0 || count + (queue[end] as Waiter).ops.length <= maxOps)
    ) {
      count += (queue[end] as Waiter).ops.length;
      end += 1;
    }
    const batch = queue.slice(0, end);
    queue = queue.slice(end);
    return batch;
  };

  const issue = (): void => {
    scheduled = false;
    if (inFlight || queue.length === 0) return;
    const batch = take();
    const ops = batch.flatMap((waiter) => waiter.ops);
    const started = performance.now();
    inFlight = store.write(ops).then(
      () => {
        options.observe?.({
          ops: ops.length,
          writes: batch.length,
          seconds: (performance.now() - started) / 1000,
        });
        for (const waiter of batch) waiter.resolve();
      },
      (error: unknown) => {
        for (const waiter of batch) waiter.reject(error);
      },
    );
    void inFlight.finally(() => {
      pending -= batch.length;
      inFlight = undefined;
      issue();
    });
  };

  return {
    write(ops) {
      if (ops.length === 0) return Promise.resolve();
      pending += 1;
      return new Promise<void>((resolve, reject) => {
        queue.push({ ops, resolve, reject });
        // Waits one turn when idle so writes made in the same burst of callbacks share a batch.
        if (!inFlight && !scheduled) {
          scheduled = true;
          setImmediate(issue);
        }
      });
    },
    async flush() {
      while (inFlight || queue.length > 0) {
        if (!inFlight) issue();
        await inFlight?.catch(() => {});
      }
    },
    get pending() {
      return pending;
    },
  };
}
