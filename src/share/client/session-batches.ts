// One session's items on their way to the server, without timers or I/O: what is pending, the
// parts of a refused batch still to send, and the batch in flight. The share queue schedules;
// this decides which items go next and keeps newer values from being overtaken by older ones.

import type { ShareItem } from "../../protocol/share-items.js";

/** Items by key, in the order each key was first queued; the newest value per key. */
export type Batch = Map<string, ShareItem>;

/** An item that did not reach the server, with its key. */
export interface DroppedItem {
  readonly key: string;
  readonly item: ShareItem;
  /** Why the server refused it, when it said. */
  readonly reason?: string;
}

/** A batch taken to send, and whether it was a refused batch's part (it goes back as one). */
export interface TakenBatch {
  readonly batch: Batch;
  readonly fromChunk: boolean;
}

/** The batches of one session. */
export class SessionBatches {
  /** Items since the last send, by key. */
  #pending: Batch = new Map();
  /** Parts of a refused batch, sent before `#pending` (split to find the offending items). */
  readonly #chunks: Batch[] = [];
  /** The batch of the request in flight; set and cleared by the sender. */
  inflight: Batch | undefined;

  /** Queues `item` under `key`, replacing a pending value of the same key in place. */
  add(key: string, item: ShareItem): void {
    this.#pending.set(key, item);
  }

  /** How many keys are pending (not counting parts or the batch in flight). */
  get pendingSize(): number {
    return this.#pending.size;
  }

  /** True when parts of a refused batch wait to be sent. */
  get hasChunks(): boolean {
    return this.#chunks.length > 0;
  }

  /** Every key not yet delivered: in flight, in a part, or pending. */
  keys(): Set<string> {
    const keys = new Set<string>();
    for (const batch of [this.inflight, ...this.#chunks, this.#pending]) {
      for (const key of batch?.keys() ?? []) keys.add(key);
    }
    return keys;
  }

  /** The next batch to send: a refused batch's part first, then everything pending. */
  take(): TakenBatch | undefined {
    while (this.#chunks.length > 0) {
      const chunk = this.#chunks.shift() as Batch;
      // A newer value pending for the same key will be sent next; the stale one need not be.
      for (const key of this.#pending.keys()) chunk.delete(key);
      if (chunk.size > 0) return { batch: chunk, fromChunk: true };
    }
    if (this.#pending.size === 0) return undefined;
    const batch = this.#pending;
    this.#pending = new Map();
    return { batch, fromChunk: false };
  }

  /** Puts a failed batch back under what was queued since (newer values win). */
  putBack({ batch, fromChunk }: TakenBatch): void {
    if (fromChunk) {
      this.#chunks.unshift(batch);
      return;
    }
    const merged: Batch = new Map(batch);
    // Newer values replace older ones in place: each key keeps the position it first had.
    for (const [key, item] of this.#pending) merged.set(key, item);
    this.#pending = merged;
  }

  /** Queues `parts` to be sent next, in this order, before anything pending. */
  sendFirst(...parts: Batch[]): void {
    this.#chunks.unshift(...parts);
  }

  /** Empties the session; returns `batch` and every item still held (newest value per key). */
  drain(batch: Batch): DroppedItem[] {
    const dropped = new Map<string, ShareItem>(batch);
    for (const chunk of this.#chunks) for (const [key, item] of chunk) dropped.set(key, item);
    for (const [key, item] of this.#pending) dropped.set(key, item);
    this.#chunks.length = 0;
    this.#pending = new Map();
    return [...dropped].map(([key, item]) => ({ key, item }));
  }
}
