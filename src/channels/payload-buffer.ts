// The bytes of one published payload on the server, written by the publisher's stream and read
// by each subscriber's stream at its own pace. Retained payloads keep every byte (late and
// resuming subscribers read from the start); relayed ones (too big to retain) keep only a window
// behind the slowest reader, and the publisher waits while that window is full.

import { createError } from "../protocol/errors.js";

interface Chunk {
  readonly offset: number;
  readonly bytes: Uint8Array;
}

/** A reader's place in a relayed payload, so the buffer knows what it may drop. */
export interface PayloadReader {
  position: number;
}

/** One payload's bytes in memory. */
export class PayloadBuffer {
  readonly size: number;
  /** True when every byte is kept for the buffer's lifetime. */
  readonly retained: boolean;
  readonly #window: number;
  readonly #chunks: Chunk[] = [];
  readonly #readers = new Set<PayloadReader>();
  #received = 0;
  #held = 0;
  #failure: Error | undefined;
  #waiters: (() => void)[] = [];

  constructor(size: number, options: { retained: boolean; relayWindow?: number }) {
    this.size = size;
    this.retained = options.retained;
    this.#window = options.relayWindow ?? 4 * 1024 * 1024;
  }

  /** Bytes written so far. */
  get received(): number {
    return this.#received;
  }

  /** Bytes held in memory now. */
  get heldBytes(): number {
    return this.#held;
  }

  /** Registers a reader (a delivery) of a relayed payload, starting at `position`. */
  addReader(position = 0): PayloadReader {
    const reader = { position };
    this.#readers.add(reader);
    return reader;
  }

  /** Forgets a reader: it no longer holds back the window. */
  removeReader(reader: PayloadReader): void {
    this.#readers.delete(reader);
    this.#trim();
    this.#wake();
  }

  /** Appends the publisher's bytes at `offset`; waits while a relayed payload's window is full. */
  async append(offset: number, bytes: Uint8Array): Promise<void> {
    if (offset !== this.#received) {
      throw createError(
        "ERR_STREAM_PROTOCOL",
        `payload buffer: write at ${offset}, expected ${this.#received}`,
      );
    }
    while (!this.retained && this.#received - this.#slowest() >= this.#window) {
      await this.#wait();
    }
    // Kept as a view: ws never reuses or rewrites a message's bytes after handing them over.
    this.#chunks.push({ offset, bytes });
    this.#received += bytes.length;
    this.#held += bytes.length;
    this.#trim();
    this.#wake();
  }

  /**
   * Reads `length` bytes at `offset`, waiting until they have arrived. When one chunk holds them
   * the result is a view of it: the chunk's own view when the read is exactly that chunk (so the
   * frame it arrived in can be sent on as it is). Bytes spread over chunks are copied into
   * `into(length)` when given (e.g. an outgoing frame), else into a new buffer.
   */
  async read(
    offset: number,
    length: number,
    reader?: PayloadReader,
    into?: (length: number) => Uint8Array,
  ): Promise<Uint8Array> {
    while (this.#received < offset + length) {
      if (this.#failure) throw this.#failure;
      await this.#wait();
    }
    const first = this.#chunks[0];
    if (first === undefined || offset < first.offset) {
      throw createError(
        "ERR_STREAM_PROTOCOL",
        `payload buffer: bytes at ${offset} are no longer held`,
      );
    }
    // Copy before moving the reader: trimming may drop the very chunk being read.
    const bytes = this.#slice(offset, length, into);
    if (reader) {
      reader.position = offset + length;
      this.#trim();
      this.#wake();
    }
    return bytes;
  }

  /** The bytes at [offset, offset + length): a view of one chunk, else a copy. */
  #slice(offset: number, length: number, into: ((length: number) => Uint8Array) | undefined) {
    const index = this.#chunkAt(offset);
    const chunk = this.#chunks[index] as Chunk;
    const from = offset - chunk.offset;
    if (from === 0 && length === chunk.bytes.length) return chunk.bytes;
    if (from + length <= chunk.bytes.length) return chunk.bytes.subarray(from, from + length);
    const out = into?.(length) ?? new Uint8Array(length);
    let filled = 0;
    for (let i = index; filled < length; i++) {
      const next = this.#chunks[i] as Chunk;
      const start = offset + filled - next.offset;
      const take = Math.min(next.bytes.length - start, length - filled);
      out.set(next.bytes.subarray(start, start + take), filled);
      filled += take;
    }
    return out;
  }

  /** The index of the chunk holding `offset` (binary search: chunks are in offset order). */
  #chunkAt(offset: number): number {
    let low = 0;
    let high = this.#chunks.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >>> 1;
      if ((this.#chunks[mid] as Chunk).offset <= offset) low = mid;
      else high = mid - 1;
    }
    return low;
  }

  /** Ends the payload in failure: readers waiting for bytes get `error`. */
  fail(error: Error): void {
    this.#failure = error;
    this.#wake();
  }

  #slowest(): number {
    let slowest = this.#received;
    for (const reader of this.#readers) slowest = Math.min(slowest, reader.position);
    return slowest;
  }

  /** Drops relayed chunks every reader is past. */
  #trim(): void {
    if (this.retained) return;
    const keepFrom = this.#slowest();
    while (this.#chunks.length > 0) {
      const first = this.#chunks[0] as Chunk;
      if (first.offset + first.bytes.length > keepFrom) break;
      this.#chunks.shift();
      this.#held -= first.bytes.length;
    }
  }

  #wait(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}
