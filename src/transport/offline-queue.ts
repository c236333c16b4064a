// Messages waiting while a connection is down, bounded in count and in bytes: a client that is
// offline for hours must not grow without limit (the pitfall of unbounded reconnecting queues).

import { createError } from "../protocol/errors.js";

/** Limits of an offline queue. */
export interface OfflineQueueLimits {
  /** Most messages held. Default 1000. */
  readonly maxCount?: number;
  /** Most bytes held. Default 16 MiB. */
  readonly maxBytes?: number;
}

/** A FIFO of pending messages that refuses what would exceed its limits. */
export class OfflineQueue<T> {
  readonly #items: { item: T; bytes: number }[] = [];
  readonly #maxCount: number;
  readonly #maxBytes: number;
  #bytes = 0;

  constructor(limits: OfflineQueueLimits = {}) {
    this.#maxCount = limits.maxCount ?? 1000;
    this.#maxBytes = limits.maxBytes ?? 16 * 1024 * 1024;
  }

  /** Messages held. */
  get size(): number {
    return this.#items.length;
  }

  /** Bytes held. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Adds a message of `bytes` bytes; throws ERR_QUEUE_FULL (nothing added) past a limit. */
  push(item: T, bytes: number): void {
    if (this.#items.length + 1 > this.#maxCount || this.#bytes + bytes > this.#maxBytes) {
      throw createError(
        "ERR_QUEUE_FULL",
        `offline queue: cannot hold a ${bytes}-byte message: ${this.#items.length} messages, ` +
          `${this.#bytes} bytes held (limits ${this.#maxCount} messages, ${this.#maxBytes} bytes)`,
      );
    }
    this.#items.push({ item, bytes });
    this.#bytes += bytes;
  }

  /** Removes and returns every message, oldest first. */
  drain(): T[] {
    const items = this.#items.splice(0).map((entry) => entry.item);
    this.#bytes = 0;
    return items;
  }
}
