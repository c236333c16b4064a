// The receiving half of one chunked stream as a pure state machine: it checks each DATA frame
// against the credit it granted, writes it through an injected sink, hands credit back in batches
// and verifies size and SHA-256 at END; the I/O layer turns its answers into CREDIT/RESUME/ACK.

import { createError, type SynclineError } from "../../protocol/errors.js";
import { TypedEmitter } from "../../util/typed-emitter.js";
import { CreditWindow } from "./credit-window.js";
import { PayloadHash, sameBytes } from "./payload-hash.js";
import { defaultReadSize, type ReadBytes } from "./payload-source.js";

/** Options for `StreamReceiver`. */
export interface StreamReceiverOptions {
  /** The transfer this stream carries (OPEN's `transferId`); used in messages. */
  readonly transferId: string;
  /** Payload size announced by OPEN, in bytes. */
  readonly size: number;
  /** Most bytes granted but not yet written by the sink. Default 4 MiB (`defaultStreamWindow`). */
  readonly window?: number;
  /** Largest payload accepted; a larger `size` throws ERR_STREAM_TOO_LARGE. Default: no limit. */
  readonly maxSize?: number;
  /** Sink: stores `bytes` at `offset`. Called in offset order, one call at a time. */
  readonly writeChunk: (offset: number, bytes: Uint8Array) => Promise<void>;
  /** Bytes already held from an earlier attempt (resume); DATA continues from here. Default 0. */
  readonly initialOffset?: number;
  /** Reads back held bytes to hash them; required when `initialOffset > 0` and no `hash`. */
  readonly readHeld?: ReadBytes;
  /**
   * The hash of exactly the first `initialOffset` bytes, handed over by the previous receiver of
   * this transfer in the same process (`handOver()`), so the prefix need not be read back.
   */
  readonly hash?: PayloadHash;
  /** Largest `readHeld` call, in bytes. Default 65536. */
  readonly readSize?: number;
  /**
   * False: no SHA-256 here; END's digest is passed on unchecked and the ACK carries it. For a
   * relay that keeps none of the bytes and whose receivers each check the digest end to end.
   * Default true.
   */
  readonly checkDigest?: boolean;
  /**
   * True for an eager stream (OPEN's `eager`): the whole payload was granted with the OPEN, so
   * there is no credit to announce (`initialGrant()` is 0) and none to grant back. It starts at
   * byte 0, and the payload must fit in the window.
   */
  readonly eager?: boolean;
}

/**
 * `receiving`: DATA expected; `complete`: every byte arrived (FIN), END expected; `verifying`:
 * END is being checked; `verified`: size and SHA-256 matched (with `checkDigest: false` the
 * size; the digest is passed on); `cancelled`; `failed`: an error (protocol, sink, integrity)
 * ended the stream and every later call rejects with it.
 */
export type StreamReceiverState =
  | "receiving"
  | "complete"
  | "verifying"
  | "verified"
  | "cancelled"
  | "failed";

/** Events of a `StreamReceiver`. */
export interface StreamReceiverEvents {
  /** Bytes the sink holds so far (an end offset, so it counts a resumed prefix). */
  progress: (receivedBytes: number, size: number) => void;
}

/**
 * The default credit window: 4 MiB. The transport design asked for about 1 MiB, but on a loaded
 * machine a 1 MiB window left the sender waiting for credit most of the time (stream-throughput,
 * docs/benchmarks.md); 4 MiB is what a raw relay keeps in flight too, and it is still the bound on
 * the bytes a receiver holds unwritten per stream.
 */
export const defaultStreamWindow = 4 * 1024 * 1024;

/**
 * One payload transfer, receiving side. Checks on a DATA frame happen synchronously when it is
 * handed in (order is the socket's), writes are queued in order, and credit returns only once
 * the sink has written the bytes, so in-flight plus queued bytes never exceed the window even if
 * the I/O layer does not await `onData`.
 *
 * Resume: build the receiver with `initialOffset` = bytes held (the previous receiver's `offset`)
 * and send RESUME with it before the first CREDIT. The whole-payload hash must cover the held
 * prefix too; its hash state cannot outlive a process, so the receiver reads the prefix back with
 * `readHeld` (readSize at a time) before hashing new bytes. A sink that lost or changed held bytes
 * therefore shows up as ERR_STREAM_INTEGRITY at END rather than as a silently corrupt file.
 */
export class StreamReceiver extends TypedEmitter<StreamReceiverEvents> {
  /** The transfer this stream carries. */
  readonly transferId: string;
  /** Payload size in bytes. */
  readonly size: number;
  readonly #write: (offset: number, bytes: Uint8Array) => Promise<void>;
  readonly #readHeld: ReadBytes | undefined;
  readonly #readSize: number;
  readonly #start: number;
  readonly #credit: CreditWindow;
  /** Undefined when this end does not check the digest (`checkDigest: false`). */
  readonly #hash: PayloadHash | undefined;
  #state: StreamReceiverState = "receiving";
  /** Why the stream stopped (state `cancelled` or `failed`); later calls reject with it. */
  #error: unknown;
  #cancellation: SynclineError | undefined;
  #tail: Promise<unknown> = Promise.resolve();

  constructor(options: StreamReceiverOptions) {
    super();
    const { transferId, size, window = defaultStreamWindow, initialOffset = 0 } = options;
    const checkDigest = options.checkDigest ?? true;
    this.transferId = transferId;
    if (!Number.isSafeInteger(size) || size < 0) {
      throw this.#protocolError(`OPEN size ${String(size)} is not a non-negative integer`);
    }
    if (options.maxSize !== undefined && size > options.maxSize) {
      throw createError(
        "ERR_STREAM_TOO_LARGE",
        `stream ${transferId}: size ${size} exceeds the limit of ${options.maxSize} bytes`,
      );
    }
    if (options.hash !== undefined && options.hash.offset !== initialOffset) {
      throw new RangeError(
        `stream receiver: the handed-over hash covers ${options.hash.offset} bytes, not ${initialOffset}`,
      );
    }
    if (
      checkDigest &&
      initialOffset > 0 &&
      options.readHeld === undefined &&
      options.hash === undefined
    ) {
      throw new TypeError(
        "stream receiver: initialOffset > 0 needs readHeld or hash for the prefix",
      );
    }
    this.#hash = checkDigest ? (options.hash ?? new PayloadHash()) : undefined;
    const readSize = options.readSize ?? defaultReadSize;
    if (!Number.isSafeInteger(readSize) || readSize <= 0) {
      throw new RangeError(
        `stream receiver: readSize ${String(readSize)} is not a positive integer`,
      );
    }
    this.size = size;
    this.#credit = new CreditWindow({ start: initialOffset, size, window });
    this.#start = initialOffset;
    this.#write = options.writeChunk;
    this.#readHeld = options.readHeld;
    this.#readSize = readSize;
    if (options.eager) {
      if (initialOffset !== 0 || size > window) {
        throw new RangeError(
          `stream receiver: an eager stream starts at 0 and fits the window (offset ${initialOffset}, size ${size})`,
        );
      }
      // Granted with the OPEN: taken here, so nothing is announced.
      this.#credit.initialGrant();
    }
  }

  /** The current state; see `StreamReceiverState`. */
  get state(): StreamReceiverState {
    return this.#state;
  }

  /** Bytes the sink holds: the offset to state in a RESUME after a reconnect. */
  get offset(): number {
    return this.#credit.written;
  }

  /**
   * Waits for queued writes, then gives up this receiver's place: the bytes written and their
   * hash, for the receiver that continues the transfer after a reconnect. Undefined when the
   * stream failed or a write was lost (the next receiver must then start over or read back).
   * `hash` is undefined when this receiver does not check the digest.
   */
  async handOver(): Promise<{ offset: number; hash: PayloadHash | undefined } | undefined> {
    await this.#tail.catch(() => {});
    const written = this.#credit.written;
    if (this.#state === "failed") return undefined;
    if (this.#hash !== undefined && this.#hash.offset !== written) return undefined;
    this.#state = "cancelled";
    return { offset: written, hash: this.#hash };
  }

  /** Bytes accepted so far, written or still queued for the sink. */
  get received(): number {
    return this.#credit.received;
  }

  /** Credit the sender still holds, in bytes; never more than the window. */
  get credit(): number {
    return this.#credit.available;
  }

  /** The credit to announce when the stream starts (a window, capped at what is left); once. */
  initialGrant(): number {
    return this.#credit.initialGrant();
  }

  /**
   * A DATA frame arrived. Resolves, once the sink has written it, to the credit to grant back
   * (0 until a batch is due). ERR_STREAM_PROTOCOL for an empty frame, data beyond the credit or
   * the size, a FIN that is not at the end (or an end without FIN), and data after FIN or END.
   * After `cancel()` late frames are dropped and resolve to 0.
   */
  onData(bytes: Uint8Array, fin: boolean): Promise<number> {
    if (this.#state === "cancelled") return Promise.resolve(0);
    try {
      this.#accept(bytes.length, fin);
    } catch (error) {
      return Promise.reject(error);
    }
    const offset = this.#credit.received - bytes.length;
    return this.#enqueue(() => this.#store(offset, bytes));
  }

  /**
   * An END frame arrived. Resolves to the verified SHA-256 for the ACK frame once every queued
   * write is done (END's own digest, unchecked, with `checkDigest: false`). ERR_STREAM_PROTOCOL
   * if `size` differs from OPEN's, bytes are missing, or END comes twice; ERR_STREAM_INTEGRITY if
   * the hash of the held bytes differs from `sha256`.
   */
  onEnd(size: number, sha256: Uint8Array): Promise<Uint8Array> {
    try {
      this.#acceptEnd(size, sha256);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#enqueue(async () => {
      const hash = this.#hash;
      if (hash === undefined) {
        this.#state = "verified";
        return new Uint8Array(sha256);
      }
      await this.#hashHeldPrefix();
      if (!sameBytes(hash.digest(), sha256)) {
        throw this.#fail(
          createError(
            "ERR_STREAM_INTEGRITY",
            `stream ${this.transferId}: SHA-256 of the ${size} bytes received differs from END's`,
          ),
        );
      }
      this.#state = "verified";
      return hash.digest();
    });
  }

  /**
   * Stops the transfer and returns the ERR_STREAM_CANCELLED error whose code and message go in
   * the CANCEL frame (the same on repeat calls). Queued writes are dropped; a write already in
   * the sink finishes. A verified or failed transfer keeps its state.
   */
  cancel(reason: string): SynclineError {
    this.#cancellation ??= createError(
      "ERR_STREAM_CANCELLED",
      `stream ${this.transferId}: cancelled: ${reason}`,
    );
    if (!this.#isStopped() && this.#state !== "verified") {
      this.#state = "cancelled";
      this.#error = this.#cancellation;
    }
    return this.#cancellation;
  }

  /** Synchronous checks of a DATA frame, in arrival order; advances `received`. */
  #accept(length: number, fin: boolean): void {
    this.#throwIfStopped();
    const at = this.#credit.received;
    if (this.#state !== "receiving") throw this.#fail(this.#protocolError("DATA after FIN or END"));
    if (length === 0) throw this.#fail(this.#protocolError(`empty DATA frame at offset ${at}`));
    if (at + length > this.size) {
      throw this.#fail(this.#protocolError(`DATA at ${at}+${length} beyond size ${this.size}`));
    }
    if (length > this.#credit.available) {
      const credit = this.#credit.available;
      throw this.#fail(this.#protocolError(`DATA of ${length} bytes exceeds credit of ${credit}`));
    }
    if (fin !== (at + length === this.size)) {
      const what = fin ? "FIN before the end" : "last DATA frame without FIN";
      throw this.#fail(this.#protocolError(`${what} at offset ${at + length} of ${this.size}`));
    }
    this.#credit.receive(length);
    if (fin) this.#state = "complete";
  }

  /** Synchronous checks of an END frame. */
  #acceptEnd(size: number, sha256: Uint8Array): void {
    this.#throwIfStopped();
    if (this.#state === "verifying" || this.#state === "verified") {
      throw this.#fail(this.#protocolError("END after END"));
    }
    if (size !== this.size) {
      throw this.#fail(this.#protocolError(`END size ${String(size)} differs from ${this.size}`));
    }
    if (this.#credit.received !== this.size) {
      const at = this.#credit.received;
      throw this.#fail(this.#protocolError(`END at offset ${at} of ${this.size}`));
    }
    if (!(sha256 instanceof Uint8Array) || sha256.length !== 32) {
      throw this.#fail(this.#protocolError("END sha256 is not 32 bytes"));
    }
    this.#state = "verifying";
  }

  /** Hashes, writes and credits one accepted frame; runs in order through the queue. */
  async #store(offset: number, bytes: Uint8Array): Promise<number> {
    if (this.#prefixUnhashed()) await this.#hashHeldPrefix();
    // Hash before the sink sees the bytes: a sink may transfer or reuse the buffer.
    this.#hash?.update(offset, bytes);
    try {
      await this.#write(offset, bytes);
    } catch (error) {
      throw this.#fail(error);
    }
    const grant = this.#credit.commit(bytes.length);
    this.emit("progress", this.#credit.written, this.size);
    return grant;
  }

  /** True while a resumed stream's held prefix still has to be read back into the hash. */
  #prefixUnhashed(): boolean {
    const hash = this.#hash;
    return hash !== undefined && hash.offset < this.#start && this.#readHeld !== undefined;
  }

  async #hashHeldPrefix(): Promise<void> {
    const hash = this.#hash;
    if (hash === undefined || !this.#prefixUnhashed() || this.#readHeld === undefined) return;
    const context = `stream ${this.transferId}: held bytes`;
    await hash.catchUp(this.#start, this.#readHeld, context, this.#readSize, () =>
      this.#isStopped(),
    );
    this.#throwIfStopped();
  }

  /** Runs `task` after the queued ones; skipped (rejecting) once the stream stopped. */
  #enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(() => {
      this.#throwIfStopped();
      return task();
    });
    this.#tail = run.catch(() => undefined);
    return run;
  }

  #isStopped(): boolean {
    return this.#state === "cancelled" || this.#state === "failed";
  }

  #throwIfStopped(): void {
    if (this.#isStopped()) throw this.#error;
  }

  /** Moves to `failed` (unless already stopped or verified) and returns `error` for throwing. */
  #fail(error: unknown): unknown {
    if (!this.#isStopped() && this.#state !== "verified") {
      this.#state = "failed";
      this.#error = error;
    }
    return error;
  }

  #protocolError(message: string): SynclineError {
    return createError("ERR_STREAM_PROTOCOL", `stream ${this.transferId}: ${message}`);
  }
}
