// One payload published on a channel: its metadata, its bytes on their way through (and, when
// kept, their durable copy), the deliveries reading it, and the publisher's receiving stream,
// which can be handed over to a new stream when the publisher reconnects and resumes.

import type { PayloadHash } from "../transport/stream/payload-hash.js";
import { StreamReceiver } from "../transport/stream/stream-receiver.js";
import { createDeferred } from "../util/deferred.js";
import type { ChannelKey } from "./channel-records.js";
import { PayloadBuffer } from "./payload-buffer.js";
import type { PayloadCopy } from "./payload-copy.js";
import { type KeeperState, keepPayload } from "./payload-keeper.js";

/** What OPEN said about a payload, and whose channel it is on. */
export interface PublicationMeta {
  readonly transferId: string;
  /** The channel's name (as the user wrote it). */
  readonly channel: string;
  readonly size: number;
  readonly origin: string;
  readonly name: string | undefined;
  readonly chunkSize: number;
  /** The publishing key's fingerprint. */
  readonly publisher: string;
  /** The channel's user (store segment; `-` for the default user). */
  readonly user: string;
}

/** How a publication holds its bytes. */
export interface PublicationOptions {
  /** The durable copy of a kept payload; absent: relayed only. */
  readonly copy?: PayloadCopy;
  /** A reader holding a relayed payload back without moving for this long is evicted, ms. */
  readonly stallMs?: number;
  /** Told of changes of the bytes held in memory. */
  readonly onHeld?: (delta: number) => void;
  /**
   * Another node writes the copy (several nodes share the store): nothing is written or held
   * here; `advance` says how far the bytes are there to read. Default false.
   */
  readonly remote?: boolean;
  /** Told after each piece of the copy is written here (other nodes are told to read it). */
  readonly onWritten?: (written: number) => void;
}

/** A payload on its way through the server. */
export class Publication {
  readonly meta: PublicationMeta;
  readonly key: ChannelKey;
  readonly buffer: PayloadBuffer;
  /** The durable copy, for a kept payload. */
  readonly copy: PayloadCopy | undefined;
  /** Its copy is written by another node, read here from the store (see `advance`). */
  readonly remote: boolean;
  /**
   * Several nodes: the channel's record as this node last wrote or read it, which its next
   * change of the record expects (another node may have changed it meanwhile).
   */
  stored: Uint8Array | undefined;
  /** The copy being written; resolves once every byte is in it (undefined: nothing to keep). */
  readonly keeper: Promise<void> | undefined;
  /**
   * Set once the publisher's END was accepted: checked here for a kept payload (the server
   * serves its bytes later); for a relayed one the server keeps nothing and each subscriber
   * checks it end to end, so the server spares itself a SHA-256 pass over every relayed byte.
   */
  sha256: Uint8Array | undefined;
  /** Resolves with the publisher's SHA-256 once accepted; rejects if the upload fails for good. */
  readonly digest = createDeferred<Uint8Array>();
  /** A publisher's stream is feeding it now. */
  uploading = false;
  /** No longer its channel's latest: its copy is deleted once nothing reads it. */
  retired = false;
  /** Subscribers that acknowledged the whole payload. */
  delivered = 0;
  /** Called whenever the publication may have become idle (see `active`). */
  onIdle: () => void = () => {};
  readonly #keeperState: KeeperState;
  readonly #deliveries = new Set<Promise<boolean>>();
  #handedOver: { offset: number; hash: PayloadHash | undefined } | undefined;
  #framesTaken = false;

  constructor(meta: PublicationMeta, options: PublicationOptions = {}) {
    this.meta = meta;
    this.key = { user: meta.user, name: meta.channel };
    this.copy = options.copy;
    this.remote = options.remote === true && options.copy !== undefined;
    const { copy } = options;
    this.buffer = new PayloadBuffer(meta.size, {
      start: copy?.written ?? 0,
      ...(options.stallMs === undefined ? {} : { stallMs: options.stallMs }),
      ...(options.onHeld ? { onHeld: options.onHeld } : {}),
    });
    this.#keeperState = {
      writing: copy !== undefined && !this.remote && copy.written < meta.size,
    };
    if (copy) {
      const state = this.#keeperState;
      this.buffer.setBacking({
        get durableUpTo() {
          return copy.written;
        },
        get writing() {
          return state.writing;
        },
        read: (offset, length) => copy.read(offset, length),
      });
    }
    this.keeper =
      copy && this.#keeperState.writing
        ? keepPayload(this.buffer, copy, this.#keeperState, options.onWritten)
        : undefined;
    // Read by whoever needs it (the acknowledgement); a failure is also the payload's failure.
    this.keeper?.catch(() => {});
    // Only deliveries that reach END read the digest; an upload that fails before any did would
    // leave its rejection unread, and an unhandled rejection ends the server process.
    this.digest.promise.catch(() => {});
  }

  /** Records the publisher's accepted digest (or, loaded from the store, the kept one). */
  completed(sha256: Uint8Array): void {
    this.sha256 = sha256;
    this.digest.resolve(sha256);
  }

  /**
   * A remote payload's copy reaches `written` in the store now (its node said so, or the store
   * did): deliveries waiting for those bytes read them there.
   */
  advance(written: number): void {
    if (!this.remote || !this.copy) return;
    const to = Math.min(written, this.meta.size);
    this.copy.observe(to);
    this.buffer.advance(to);
  }

  /** Ends the upload in failure: readers and deliveries waiting on it get `error`. */
  failed(error: Error): void {
    this.buffer.fail(error);
    this.digest.reject(error);
    this.onIdle();
  }

  /** The failure it ended with, if it did. */
  get failure(): Error | undefined {
    return this.buffer.failure;
  }

  /** True once every byte arrived and END was accepted. */
  get complete(): boolean {
    return this.sha256 !== undefined;
  }

  /**
   * True while something still needs it in memory: an upload running or awaited (unfinished and
   * not failed), or a delivery.
   */
  get active(): boolean {
    const awaited = !this.complete && this.failure === undefined;
    return this.uploading || awaited || this.#deliveries.size > 0;
  }

  /** Follows a delivery; `run` resolves true once the subscriber acknowledged. */
  track(run: Promise<boolean>): void {
    this.#deliveries.add(run);
    void run.then((ok) => {
      this.#deliveries.delete(run);
      if (ok) this.delivered++;
      this.onIdle();
    });
  }

  /** Resolves once every delivery running now has ended, or after `timeoutMs`. */
  async deliveriesSettled(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    await Promise.race([Promise.all(this.#deliveries), timeout]);
    clearTimeout(timer);
  }

  /**
   * True for the first delivery that asks while the payload is still arriving: that one uses the
   * publisher's chunk size, so it can send the publisher's frames on as they arrive
   * (received-frames.ts); later ones use bigger chunks, copied.
   */
  takeFrames(): boolean {
    // A remote payload has no frames here: every delivery reads big chunks from the store.
    if (this.#framesTaken || this.remote || this.buffer.received === this.meta.size) return false;
    this.#framesTaken = true;
    return true;
  }

  /**
   * A receiver for the publisher's (next) stream, continuing where the last one stopped: from
   * the stream handed over in this process, else from the kept copy (after a restart; the
   * receiver then reads that prefix back to hash it).
   */
  createReceiver(options: { eager?: boolean } = {}): StreamReceiver {
    if (options.eager) {
      // A new publication of a payload sent whole with its OPEN (see channel-uploads.ts).
      return new StreamReceiver({
        transferId: this.meta.transferId,
        size: this.meta.size,
        writeChunk: (offset, bytes) => this.buffer.append(offset, bytes),
        checkDigest: this.copy !== undefined,
        eager: true,
      });
    }
    const prior = this.#handedOver;
    this.#handedOver = undefined;
    const kept = this.copy !== undefined;
    const start = prior?.offset ?? this.buffer.received;
    const copy = this.copy;
    return new StreamReceiver({
      transferId: this.meta.transferId,
      size: this.meta.size,
      writeChunk: (offset, bytes) => this.buffer.append(offset, bytes),
      checkDigest: kept,
      ...(start > 0 ? { initialOffset: start } : {}),
      ...(prior?.hash ? { hash: prior.hash } : {}),
      ...(start > 0 && !prior && copy
        ? { readHeld: (offset, length) => copy.read(offset, length) }
        : {}),
    });
  }

  /** Keeps what `receiver` got, so a resumed stream continues from there. */
  async suspend(receiver: StreamReceiver): Promise<boolean> {
    this.#handedOver = await receiver.handOver();
    return this.#handedOver !== undefined;
  }

  /** Lets go of memory and open files (the payload leaves memory; its copy stays). */
  async close(): Promise<void> {
    this.buffer.release();
    await this.copy?.close();
  }
}
