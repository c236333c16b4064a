// The receiver's ledger of flow-control credit for one stream: what it granted, what arrived and
// what its sink has written, so that at most one window of bytes is ever in flight or in memory.

/** Options for `CreditWindow`. */
export interface CreditWindowOptions {
  /** Offset the stream starts at: bytes the receiver already holds (after a resume). */
  readonly start: number;
  /** The payload size in bytes; credit is never granted past it. */
  readonly size: number;
  /** Most bytes granted but not yet written by the sink; a positive integer. */
  readonly window: number;
}

/**
 * Credit arithmetic in absolute payload offsets: `written ≤ received ≤ granted ≤ size` and
 * `granted − written ≤ window`. Credit comes back in batches of at least a quarter of the window
 * (or the last bytes of the payload): often enough that the sender rarely runs dry, and CREDIT
 * frames stay rare — about four per window of data.
 */
export class CreditWindow {
  readonly #size: number;
  readonly #window: number;
  readonly #batch: number;
  #granted: number;
  #received: number;
  #written: number;
  #started = false;

  constructor(options: CreditWindowOptions) {
    const { start, size, window } = options;
    if (!Number.isSafeInteger(window) || window <= 0) {
      throw new RangeError(`credit window: window ${String(window)} is not a positive integer`);
    }
    if (!Number.isSafeInteger(start) || start < 0 || start > size) {
      throw new RangeError(`credit window: start ${String(start)} is not within 0..${size}`);
    }
    this.#size = size;
    this.#window = window;
    this.#batch = Math.ceil(window / 4);
    this.#granted = start;
    this.#received = start;
    this.#written = start;
  }

  /** Offset up to which the sender may send. */
  get granted(): number {
    return this.#granted;
  }

  /** Offset of the end of the bytes accepted so far. */
  get received(): number {
    return this.#received;
  }

  /** Offset of the end of the bytes the sink has written. */
  get written(): number {
    return this.#written;
  }

  /** Credit the sender still holds (granted and not yet arrived). */
  get available(): number {
    return this.#granted - this.#received;
  }

  /** The credit to announce when the stream starts: a full window, capped at what is left. */
  initialGrant(): number {
    // Only once: a second announcement would let the sender exceed the window.
    if (this.#started) return 0;
    this.#started = true;
    return this.#grant(Math.min(this.#written + this.#window, this.#size) - this.#granted);
  }

  /** Records `length` arriving bytes; the caller has checked `length ≤ available`. */
  receive(length: number): void {
    if (length > this.available) {
      throw new RangeError(`credit window: ${length} bytes exceed the ${this.available} granted`);
    }
    this.#received += length;
  }

  /** Records `length` bytes written by the sink; returns the credit to grant back now (or 0). */
  commit(length: number): number {
    if (this.#written + length > this.#received) {
      throw new RangeError(`credit window: ${length} bytes written beyond those received`);
    }
    this.#written += length;
    const room = Math.min(this.#written + this.#window, this.#size) - this.#granted;
    // Grant a batch, or the last bytes of the payload however few (else the sender would wait
    // forever for a batch that can never fill).
    const final = this.#granted + room === this.#size;
    return room >= this.#batch || (room > 0 && final) ? this.#grant(room) : 0;
  }

  #grant(bytes: number): number {
    this.#granted += bytes;
    return bytes;
  }
}
