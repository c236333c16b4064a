// The bytes of one published payload on the server while they pass through: written by the
// publisher's stream, read by each subscriber's stream at its own pace and, for a kept payload,
// copied to its durable copy (the backing). Memory holds a window at most: a chunk leaves once
// every reader that needs memory is past it. A reader behind the durable copy reads from there
// instead, so for a kept payload only the copy (the disk) can hold the publisher back; for a
// relayed one the slowest reader does, and one that stops reading is evicted after `stallMs`.

import { createError, type SynclineError } from "../protocol/errors.js";

interface Chunk {
  readonly offset: number;
  readonly bytes: Uint8Array;
}

/** A reader's place in the payload, so the buffer knows what it may drop. */
export interface PayloadReader {
  position: number;
  /** When `position` last moved (or the reader was added), ms since the epoch. */
  movedAt: number;
  /** Set once the reader was evicted for holding the payload back; its reads then fail. */
  evicted?: SynclineError;
  /** Called once when the reader is evicted (a delivery cancels its stream). */
  onEvicted?: (error: SynclineError) => void;
}

/** The payload's durable copy, where bytes that left memory are read again. */
export interface PayloadBacking {
  /** Bytes from offset 0 the copy holds and can read back. */
  readonly durableUpTo: number;
  /** True while the copy still takes bytes: memory keeps what it has not written yet. */
  readonly writing: boolean;
  read(offset: number, length: number): Promise<Uint8Array>;
}

/** Options of a PayloadBuffer. */
export interface PayloadBufferOptions {
  /** Most bytes held in memory ahead of the slowest holder. Default 4 MiB. */
  readonly window?: number;
  /** Bytes already held by the backing (a copy from before a restart); writes continue there. */
  readonly start?: number;
  /** A reader that holds a full window back without moving for this long is evicted, ms. */
  readonly stallMs?: number;
  /** Told of every change of the bytes held in memory (positive or negative). */
  readonly onHeld?: (delta: number) => void;
}

/** The default memory window of one payload: what a relay keeps in flight. */
export const defaultPayloadWindow = 4 * 1024 * 1024;

/** One payload's bytes on their way through the server. */
export class PayloadBuffer {
  readonly size: number;
  readonly #window: number;
  readonly #stallMs: number | undefined;
  readonly #onHeld: ((delta: number) => void) | undefined;
  readonly #chunks: Chunk[] = [];
  readonly #readers = new Set<PayloadReader>();
  #backing: PayloadBacking | undefined;
  #received: number;
  #held = 0;
  #failure: Error | undefined;
  #waiters: (() => void)[] = [];

  constructor(size: number, options: PayloadBufferOptions = {}) {
    this.size = size;
    this.#window = options.window ?? defaultPayloadWindow;
    this.#received = options.start ?? 0;
    this.#stallMs = options.stallMs;
    this.#onHeld = options.onHeld;
  }

  /** Bytes written so far (the backing's from before a restart included). */
  get received(): number {
    return this.#received;
  }

  /** Bytes held in memory now. */
  get heldBytes(): number {
    return this.#held;
  }

  /** The failure the payload ended with, if it did. */
  get failure(): Error | undefined {
    return this.#failure;
  }

  /** Gives the buffer its durable copy (or takes it away). */
  setBacking(backing: PayloadBacking | undefined): void {
    this.#backing = backing;
    this.backingMoved();
  }

  /** The backing wrote more, or stopped writing: memory it no longer needs may go. */
  backingMoved(): void {
    this.#trim();
    this.#wake();
  }

  /** True when a delivery from byte 0 can still get every byte (none left without a copy). */
  canReadFromStart(): boolean {
    return this.#memStart() === 0 || this.#backing !== undefined;
  }

  /** Registers a reader (a delivery) starting at `position`. */
  addReader(position = 0): PayloadReader {
    const reader: PayloadReader = { position, movedAt: Date.now() };
    this.#readers.add(reader);
    return reader;
  }

  /** Forgets a reader: it no longer holds memory. */
  removeReader(reader: PayloadReader): void {
    this.#readers.delete(reader);
    this.#trim();
    this.#wake();
  }

  /** Resolves with `received` once more than `offset` bytes arrived; rejects on failure. */
  async whenReceived(offset: number): Promise<number> {
    while (this.#received <= offset) {
      if (this.#failure) throw this.#failure;
      await this.#wait();
    }
    return this.#received;
  }

  /**
   * Bytes up to `to` are in the backing, written there by another node (several nodes share the
   * store): readers waiting for them read them there. Such a buffer is never appended to, so it
   * holds nothing in memory and no reader can hold anything back.
   */
  advance(to: number): void {
    if (this.#chunks.length > 0) {
      throw createError("ERR_UNEXPECTED", "payload buffer: advanced while holding appended bytes");
    }
    if (to <= this.#received) return;
    this.#received = Math.min(to, this.size);
    this.#wake();
  }

  /** Appends the publisher's bytes at `offset`; waits while the memory window is full. */
  async append(offset: number, bytes: Uint8Array): Promise<void> {
    if (offset !== this.#received) {
      throw createError(
        "ERR_STREAM_PROTOCOL",
        `payload buffer: write at ${offset}, expected ${this.#received}`,
      );
    }
    await this.#waitForRoom();
    // Kept as a view: ws never reuses or rewrites a message's bytes after handing them over.
    this.#chunks.push({ offset, bytes });
    this.#received += bytes.length;
    this.#changeHeld(bytes.length);
    this.#trim();
    this.#wake();
  }

  /**
   * Reads `length` bytes at `offset`, waiting until they have arrived. When one chunk in memory
   * holds them the result is a view of it: the chunk's own view when the read is exactly that
   * chunk (so the frame it arrived in can be sent on as it is). Anything else is copied into
   * `into(length)` when given (e.g. an outgoing frame), else into a new buffer; bytes no longer
   * in memory come from the backing. A `reader` moves past the bytes read.
   */
  async read(
    offset: number,
    length: number,
    reader?: PayloadReader,
    into?: (length: number) => Uint8Array,
  ): Promise<Uint8Array> {
    while (this.#received < offset + length) {
      this.#throwIfStopped(reader);
      await this.#wait();
    }
    this.#throwIfStopped(reader);
    if (length === 0) return new Uint8Array(0);
    const bytes =
      offset >= this.#memStart()
        ? this.#slice(offset, length, into)
        : await this.#readThroughBacking(offset, length, into);
    if (reader) this.#move(reader, offset + length);
    return bytes;
  }

  /** Ends the payload in failure: writers and readers waiting get `error`. */
  fail(error: Error): void {
    this.#failure ??= error;
    this.#wake();
  }

  /** Drops every byte held in memory (the payload is forgotten). */
  release(): void {
    this.#changeHeld(-this.#held);
    this.#chunks.length = 0;
  }

  #throwIfStopped(reader: PayloadReader | undefined): void {
    if (reader?.evicted) throw reader.evicted;
    if (this.#failure) throw this.#failure;
  }

  #move(reader: PayloadReader, position: number): void {
    reader.position = position;
    reader.movedAt = Date.now();
    this.#trim();
    this.#wake();
  }

  /** Bytes before this offset are no longer in memory. */
  #memStart(): number {
    return this.#chunks[0]?.offset ?? this.#received;
  }

  /** Copies [offset, offset + length) from the backing and then memory, into one buffer. */
  async #readThroughBacking(
    offset: number,
    length: number,
    into: ((length: number) => Uint8Array) | undefined,
  ): Promise<Uint8Array> {
    const out = into?.(length) ?? new Uint8Array(length);
    let filled = 0;
    while (filled < length) {
      const at = offset + filled;
      const memStart = this.#memStart();
      if (at >= memStart) {
        // Synchronous from here: nothing can leave memory before the copy is done.
        out.set(this.#slice(at, length - filled, undefined), filled);
        break;
      }
      const durable = this.#backing?.durableUpTo ?? 0;
      if (this.#backing === undefined || at >= durable) {
        throw createError(
          "ERR_STREAM_PROTOCOL",
          `payload buffer: bytes at ${at} are no longer held`,
        );
      }
      const take = Math.min(length - filled, memStart - at, durable - at);
      out.set(await this.#backing.read(at, take), filled);
      filled += take;
    }
    return out;
  }

  /** The bytes at [offset, offset + length) in memory: a view of one chunk, else a copy. */
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

  /**
   * The first byte memory must keep: what the backing has not written while it writes, and what
   * each reader ahead of the backing has not read (a reader behind it reads from the backing).
   */
  #keepFrom(): number {
    const backing = this.#backing;
    const durable = backing?.durableUpTo ?? 0;
    let keep = this.#received;
    if (backing?.writing) keep = Math.min(keep, durable);
    for (const reader of this.#readers) {
      keep = Math.min(keep, backing ? Math.max(reader.position, durable) : reader.position);
    }
    return keep;
  }

  /** Waits while the window is full; evicts a reader that holds it without moving. */
  async #waitForRoom(): Promise<void> {
    // One stall timer while it stays armed, not one per wake-up: a relay wakes the writer for
    // every chunk a reader takes, and a timer made each time cost a measurable share of its CPU.
    let stall: NodeJS.Timeout | undefined;
    try {
      while (this.#received - this.#keepFrom() >= this.#window) {
        if (this.#failure) throw this.#failure;
        stall ??= this.#stallTimer(() => {
          stall = undefined;
          this.#evictStalled();
        });
        await this.#wait();
      }
    } finally {
      clearTimeout(stall);
    }
  }

  /** A timer that calls `onStall` when the oldest holder would be past `stallMs`. */
  #stallTimer(onStall: () => void): NodeJS.Timeout | undefined {
    const holders = this.#holders();
    if (this.#stallMs === undefined || holders.length === 0) return undefined;
    let oldest = Number.POSITIVE_INFINITY;
    for (const reader of holders) oldest = Math.min(oldest, reader.movedAt);
    const timer = setTimeout(onStall, Math.max(0, oldest + this.#stallMs - Date.now()) + 1);
    timer.unref();
    return timer;
  }

  /** The readers that hold memory at the window's start; none while the backing does. */
  #holders(): PayloadReader[] {
    const keep = this.#keepFrom();
    const backing = this.#backing;
    const durable = backing?.durableUpTo ?? 0;
    if (backing?.writing && keep >= durable) return [];
    return [...this.#readers].filter(
      (reader) => (backing ? Math.max(reader.position, durable) : reader.position) === keep,
    );
  }

  #evictStalled(): void {
    const now = Date.now();
    const stallMs = this.#stallMs ?? Number.POSITIVE_INFINITY;
    for (const reader of this.#holders()) {
      if (now - reader.movedAt < stallMs) continue;
      reader.evicted = createError(
        "ERR_STREAM_SLOW_READER",
        `payload buffer: a receiver read nothing for ${stallMs} ms while the relayed payload waited on it (at byte ${reader.position} of ${this.size})`,
      );
      this.#readers.delete(reader);
      reader.onEvicted?.(reader.evicted);
    }
    this.#trim();
    this.#wake();
  }

  /** Drops chunks nobody needs in memory any more. */
  #trim(): void {
    const keepFrom = this.#keepFrom();
    let dropped = 0;
    while (this.#chunks.length > 0) {
      const first = this.#chunks[0] as Chunk;
      if (first.offset + first.bytes.length > keepFrom) break;
      this.#chunks.shift();
      dropped += first.bytes.length;
    }
    if (dropped > 0) this.#changeHeld(-dropped);
  }

  #changeHeld(delta: number): void {
    this.#held += delta;
    this.#onHeld?.(delta);
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
