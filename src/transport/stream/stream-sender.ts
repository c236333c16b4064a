// The sending half of one chunked stream as a pure state machine: it reads the payload chunk by
// chunk within the credit the receiver granted, hashes it as it goes and hands frames to the I/O
// layer, which turns them into DATA/END and feeds CREDIT/RESUME/ACK/CANCEL back in.

import { createError, type SynclineError } from "../../protocol/errors.js";
import { TypedEmitter } from "../../util/typed-emitter.js";
import { PayloadHash, sameBytes } from "./payload-hash.js";
import { defaultReadSize, type ReadBytes, readExact } from "./payload-source.js";

/** Options for `StreamSender`. */
export interface StreamSenderOptions {
  /** The transfer this stream carries (OPEN's `transferId`); used in messages. */
  readonly transferId: string;
  /** Payload size in bytes (OPEN's `size`). */
  readonly size: number;
  /** Largest DATA payload, in bytes (OPEN's `chunkSize`). Default 65536. */
  readonly chunkSize?: number;
  /** Random-access source of the payload; it must not change during the transfer. */
  readonly readChunk: ReadBytes;
  /** Credit already granted when the sender is built, in bytes. Default 0. */
  readonly initialCredit?: number;
  /**
   * The payload's SHA-256 when someone already computed it (a relay forwarding a verified
   * upload): the sender then skips hashing and sends this at END, once it resolves.
   */
  readonly knownDigest?: () => Promise<Uint8Array>;
}

/** A frame for the I/O layer to send: DATA (FIN on the last one) or END. */
export type SenderFrame =
  | {
      readonly kind: "data";
      readonly offset: number;
      readonly bytes: Uint8Array;
      readonly fin: boolean;
    }
  | { readonly kind: "end"; readonly size: number; readonly sha256: Uint8Array };

/**
 * `open`: DATA or END still to produce; `ended`: END produced, waiting for ACK; `acked`: the
 * receiver confirmed the hash; `cancelled`: `cancel()` was called; `failed`: the ACK's hash differed.
 */
export type StreamSenderState = "open" | "ended" | "acked" | "cancelled" | "failed";

/** Events of a `StreamSender`. */
export interface StreamSenderEvents {
  /** Bytes handed to the I/O layer so far (as an end offset, so it counts a resumed prefix). */
  progress: (sentBytes: number, size: number) => void;
}

/**
 * One payload transfer, sending side. It never produces DATA beyond the credit granted, holds no
 * bytes between calls (memory: the one chunk it returns) and hashes each byte once, in order.
 *
 * Resume: one sender serves one stream. After a reconnect the I/O layer builds a new sender for
 * the new stream and calls `resumeFrom(offset)` with the receiver's RESUME before sending. A new
 * sender has not hashed the prefix the receiver holds, so before its first frame it reads that
 * prefix (chunkSize at a time, never sent) to bring the SHA-256 up to the resume offset.
 * Node's hash state cannot be saved across processes, so re-reading is the only sound option;
 * it costs one local read of the prefix, not its transfer.
 *
 * After `cancel()`, late peer events (grant, resumeFrom, onAck: they raced our CANCEL) are ignored
 * and `nextFrame()` rejects with the cancellation error.
 */
export class StreamSender extends TypedEmitter<StreamSenderEvents> {
  /** The transfer this stream carries. */
  readonly transferId: string;
  /** Payload size in bytes. */
  readonly size: number;
  /** Largest DATA payload in bytes. */
  readonly chunkSize: number;
  readonly #read: ReadBytes;
  readonly #hash = new PayloadHash();
  readonly #knownDigest: (() => Promise<Uint8Array>) | undefined;
  #digest: Uint8Array | undefined;
  #state: StreamSenderState = "open";
  #credit: number;
  #position = 0;
  /** End offset of what this sender produced; undefined before its first frame. */
  #producedUpTo: number | undefined;
  /** Bumped by resumeFrom and cancel so a read in progress knows its position is stale. */
  #epoch = 0;
  #cancelled: SynclineError | undefined;
  #tail: Promise<unknown> = Promise.resolve();

  constructor(options: StreamSenderOptions) {
    super();
    const { transferId, size, chunkSize = defaultReadSize, initialCredit = 0 } = options;
    assertCount("size", size, 0);
    assertCount("chunkSize", chunkSize, 1);
    assertCount("initialCredit", initialCredit, 0);
    this.transferId = transferId;
    this.size = size;
    this.chunkSize = chunkSize;
    this.#read = options.readChunk;
    this.#credit = initialCredit;
    this.#knownDigest = options.knownDigest;
  }

  /** The current state; see `StreamSenderState`. */
  get state(): StreamSenderState {
    return this.#state;
  }

  /** Credit granted and not yet used, in bytes. */
  get credit(): number {
    return this.#credit;
  }

  /** Offset of the next DATA byte to send. */
  get position(): number {
    return this.#position;
  }

  /** A CREDIT frame arrived: the sender may send `bytes` more. ERR_STREAM_PROTOCOL if invalid. */
  grant(bytes: number): void {
    if (this.#cancelled) return;
    if (!Number.isSafeInteger(bytes) || bytes <= 0) {
      throw this.#protocolError(`CREDIT of ${String(bytes)} bytes is not a positive integer`);
    }
    if (!Number.isSafeInteger(this.#credit + bytes)) {
      throw this.#protocolError(`CREDIT of ${bytes} bytes overflows the credit`);
    }
    this.#credit += bytes;
  }

  /**
   * A RESUME arrived: the receiver holds the first `offset` bytes. Legal while the transfer is
   * not acked, for an integer `0 ≤ offset ≤ size`; once this sender has produced frames, also
   * `offset ≤` the end of what it produced (a receiver cannot hold bytes never sent). Before any
   * frame the receiver is the authority on what it holds (tus-style). Credit is unchanged: it
   * belongs to the stream. Resuming at `size` makes the next frame END, unless END was already
   * produced (state `ended`), which then stands. ERR_STREAM_PROTOCOL else.
   */
  resumeFrom(offset: number): void {
    if (this.#cancelled) return;
    if (this.#state !== "open" && this.#state !== "ended") {
      throw this.#protocolError(`RESUME at offset ${String(offset)} after the transfer ended`);
    }
    const limit = this.#producedUpTo ?? this.size;
    if (!Number.isSafeInteger(offset) || offset < 0 || offset > limit) {
      throw this.#protocolError(`RESUME offset ${String(offset)} is not within 0..${limit}`);
    }
    // The END already produced answers a receiver that holds everything; a second END would be
    // "END after END" to it. This is the normal case of an empty payload: it needs no credit,
    // so its END goes out before the receiver's opening RESUME 0 arrives.
    if (this.#state === "ended" && offset === this.size) return;
    this.#position = offset;
    this.#state = "open";
    this.#epoch++;
  }

  /**
   * The next frame to send, or null when blocked on credit or when END was produced. Calls are
   * serialised, so the I/O layer may call again before the previous call settled. Rejects with
   * the cancellation error after `cancel()`, with ERR_STREAM_SOURCE on a short read, and with
   * whatever `readChunk` rejects with (the call may then be retried).
   */
  nextFrame(): Promise<SenderFrame | null> {
    const frame = this.#tail.then(() => this.#produce());
    this.#tail = frame.catch(() => undefined);
    return frame;
  }

  /**
   * An ACK arrived with the receiver's SHA-256. ERR_STREAM_PROTOCOL before END or after another
   * ACK; ERR_STREAM_INTEGRITY (state `failed`) when it is not the hash of what was sent.
   */
  onAck(sha256: Uint8Array): void {
    if (this.#cancelled) return;
    if (this.#state !== "ended") {
      throw this.#protocolError(`ACK in state ${this.#state}`);
    }
    if (!sameBytes(sha256, this.#digest ?? this.#hash.digest())) {
      this.#state = "failed";
      throw createError(
        "ERR_STREAM_INTEGRITY",
        `stream ${this.transferId}: ACK carries a SHA-256 that differs from the payload's`,
      );
    }
    this.#state = "acked";
  }

  /**
   * Stops the transfer and returns the ERR_STREAM_CANCELLED error whose code and message go in
   * the CANCEL frame (the same error on repeat calls). An acked transfer stays acked.
   */
  cancel(reason: string): SynclineError {
    if (this.#cancelled) return this.#cancelled;
    this.#cancelled = createError(
      "ERR_STREAM_CANCELLED",
      `stream ${this.transferId}: cancelled: ${reason}`,
    );
    if (this.#state !== "acked") this.#state = "cancelled";
    this.#epoch++;
    return this.#cancelled;
  }

  async #produce(): Promise<SenderFrame | null> {
    for (;;) {
      if (this.#cancelled) throw this.#cancelled;
      if (this.#state !== "open") return null;
      const epoch = this.#epoch;
      const position = this.#position;
      if (this.#knownDigest === undefined && this.#hash.offset < position) {
        // A resume skipped bytes this process never hashed: hash them without sending.
        await this.#hash.catchUp(position, this.#read, this.#context, this.chunkSize, () =>
          Boolean(this.#cancelled),
        );
        continue;
      }
      if (position === this.size) {
        const digest = await this.#digestForEnd();
        if (epoch !== this.#epoch) continue;
        return this.#endFrame(digest);
      }
      const length = Math.min(this.chunkSize, this.size - position, this.#credit);
      if (length === 0) return null;
      const bytes = await readExact(this.#read, position, length, this.#context);
      // A resume or cancel during the read moved us: the bytes may be for the wrong offset.
      if (epoch !== this.#epoch) continue;
      return this.#dataFrame(position, bytes);
    }
  }

  #dataFrame(offset: number, bytes: Uint8Array): SenderFrame {
    if (this.#knownDigest === undefined) this.#hash.update(offset, bytes);
    this.#credit -= bytes.length;
    this.#position = offset + bytes.length;
    this.#producedUpTo = Math.max(this.#producedUpTo ?? 0, this.#position);
    const fin = this.#position === this.size;
    this.emit("progress", this.#position, this.size);
    return { kind: "data", offset, bytes, fin };
  }

  async #digestForEnd(): Promise<Uint8Array> {
    this.#digest ??= this.#knownDigest ? await this.#knownDigest() : this.#hash.digest();
    return this.#digest;
  }

  #endFrame(sha256: Uint8Array): SenderFrame {
    this.#state = "ended";
    this.#producedUpTo = this.size;
    return { kind: "end", size: this.size, sha256 };
  }

  get #context(): string {
    return `stream ${this.transferId}: source`;
  }

  #protocolError(message: string): SynclineError {
    return createError("ERR_STREAM_PROTOCOL", `stream ${this.transferId}: ${message}`);
  }
}

/** A payload's size and chunk size come from the caller (ChannelClient.send): refused as options. */
function assertCount(name: string, value: number, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw createError(
      "ERR_INVALID_OPTION",
      `stream sender: ${name} ${String(value)} is not an integer >= ${min}`,
    );
  }
}
