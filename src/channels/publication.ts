// One payload published on a channel: its metadata, its bytes (retained or relayed), and the
// publisher's receiving stream, which can be handed over to a new stream when the publisher
// reconnects and resumes.

import type { PayloadHash } from "../transport/stream/payload-hash.js";
import { StreamReceiver } from "../transport/stream/stream-receiver.js";
import { createDeferred } from "../util/deferred.js";
import { PayloadBuffer } from "./payload-buffer.js";

/** What OPEN said about a payload. */
export interface PublicationMeta {
  readonly transferId: string;
  readonly channel: string;
  readonly size: number;
  readonly origin: string;
  readonly name: string | undefined;
  readonly chunkSize: number;
  /** The publishing key's fingerprint. */
  readonly publisher: string;
}

/** A payload on its way through the server. */
export class Publication {
  readonly meta: PublicationMeta;
  readonly buffer: PayloadBuffer;
  /**
   * Set once the publisher's END was accepted: checked here for a retained payload (the server
   * serves its bytes later); for a relayed one the server keeps nothing and each subscriber
   * checks it end to end, so the server spares itself a SHA-256 pass over every relayed byte.
   */
  sha256: Uint8Array | undefined;
  /** Resolves with the publisher's SHA-256 once accepted; rejects if the upload fails for good. */
  readonly digest = createDeferred<Uint8Array>();
  #handedOver: { offset: number; hash: PayloadHash | undefined } | undefined;
  #framesTaken = false;

  constructor(meta: PublicationMeta, retained: boolean) {
    this.meta = meta;
    this.buffer = new PayloadBuffer(meta.size, { retained });
    // Only deliveries that reach END read the digest; an upload that fails before any did would
    // leave its rejection unread, and an unhandled rejection ends the server process.
    this.digest.promise.catch(() => {});
  }

  /** Records the publisher's accepted digest. */
  completed(sha256: Uint8Array): void {
    this.sha256 = sha256;
    this.digest.resolve(sha256);
  }

  /** Ends the upload in failure: readers and deliveries waiting on it get `error`. */
  failed(error: Error): void {
    this.buffer.fail(error);
    this.digest.reject(error);
  }

  /**
   * True for the first delivery that asks while the payload is still arriving: that one uses the
   * publisher's chunk size, so it can send the publisher's frames on as they arrive
   * (received-frames.ts); later ones use bigger chunks, copied.
   */
  takeFrames(): boolean {
    if (this.#framesTaken || this.buffer.received === this.meta.size) return false;
    this.#framesTaken = true;
    return true;
  }

  /** True once every byte arrived and END was accepted. */
  get complete(): boolean {
    return this.sha256 !== undefined;
  }

  /** A receiver for the publisher's (next) stream, continuing where the last one stopped. */
  createReceiver(): StreamReceiver {
    const prior = this.#handedOver;
    this.#handedOver = undefined;
    return new StreamReceiver({
      transferId: this.meta.transferId,
      size: this.meta.size,
      writeChunk: (offset, bytes) => this.buffer.append(offset, bytes),
      checkDigest: this.buffer.retained,
      ...(prior ? { initialOffset: prior.offset } : {}),
      ...(prior?.hash ? { hash: prior.hash } : {}),
    });
  }

  /** Keeps what `receiver` got, so a resumed stream continues from there. */
  async suspend(receiver: StreamReceiver): Promise<boolean> {
    this.#handedOver = await receiver.handOver();
    return this.#handedOver !== undefined;
  }
}
