// The write path of a wire connection: control frames go to the socket at once; bulk frames
// (stream data) only while the bytes we have handed to the socket and not yet seen flushed stay
// under a cap, so a control frame never waits behind more than that cap of bulk data and memory
// stays bounded whatever the payload size. The frames of one tick are corked, so they leave in
// one write system call (a corked frame counts as buffered until flushed, so the cap still
// bounds what a control frame can wait behind).

import { createError, describeError } from "../protocol/errors.js";

/** The part of a WebSocket the writer needs (ws's WebSocket satisfies it). */
export interface FrameSink {
  send(data: Uint8Array, callback: (error?: Error) => void): void;
  /** Holds writes back until `uncork` (optional; e.g. the underlying net.Socket's). */
  cork?(): void;
  uncork?(): void;
}

/** Options of a FrameWriter. */
export interface FrameWriterOptions {
  /** Most bulk bytes handed to the socket and not yet flushed. Default 4 MiB. */
  readonly maxBufferedBytes?: number;
}

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/** Writes frames to one socket with control-first priority and bounded bulk buffering. */
export class FrameWriter {
  readonly #sink: FrameSink;
  readonly #maxBuffered: number;
  readonly #waiters: Waiter[] = [];
  #buffered = 0;
  #corked = false;
  #closedWith: Error | undefined;

  constructor(sink: FrameSink, options: FrameWriterOptions = {}) {
    this.#sink = sink;
    this.#maxBuffered = options.maxBufferedBytes ?? 4 * 1024 * 1024;
  }

  /** Bytes handed to the socket whose flush has not been confirmed yet. */
  get bufferedBytes(): number {
    return this.#buffered;
  }

  /**
   * Sends a control frame now; it is never queued behind bulk frames. It is corked for the rest
   * of the tick like bulk frames, so the frames one event produces (a delivery's OPEN, DATA and
   * END, an ACK beside them) leave in one system call rather than one each.
   */
  sendControl(frame: Uint8Array): void {
    if (this.#closedWith) return;
    this.#corkForTick();
    this.#write(frame);
  }

  /**
   * Sends a bulk frame once the buffered bytes are under the cap; resolves when it has been
   * handed to the socket. Rejects with the close reason if the connection closes first.
   */
  async sendBulk(frame: Uint8Array, onFlushed?: () => void): Promise<void> {
    while (this.#buffered >= this.#maxBuffered) {
      if (this.#closedWith) throw this.#closedWith;
      await new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }));
    }
    if (this.#closedWith) throw this.#closedWith;
    this.#corkForTick();
    this.#write(frame, onFlushed);
  }

  /**
   * Holds the socket's writes until the current burst of bulk frames (this tick's microtasks)
   * is done, so they go out in one system call rather than one each.
   */
  #corkForTick(): void {
    if (this.#corked || this.#sink.cork === undefined) return;
    this.#corked = true;
    this.#sink.cork();
    process.nextTick(() => {
      this.#corked = false;
      this.#sink.uncork?.();
    });
  }

  /** Fails every waiting and later bulk send with `reason` (the connection is gone). */
  close(reason: Error = createError("ERR_CONNECTION_CLOSED", "wire: connection closed")): void {
    if (this.#closedWith) return;
    this.#closedWith = reason;
    for (const waiter of this.#waiters.splice(0)) waiter.reject(reason);
  }

  #write(frame: Uint8Array, onFlushed?: () => void): void {
    const size = frame.byteLength;
    this.#buffered += size;
    this.#sink.send(frame, (error) => {
      this.#buffered -= size;
      onFlushed?.();
      // A socket error (ECONNRESET, EPIPE) is the connection's loss, as a close is: senders
      // that resume after a loss must see it as one, not as a failure of their own.
      if (error) this.close(connectionLost(error));
      else this.#wakeOne();
    });
  }

  #wakeOne(): void {
    if (this.#buffered < this.#maxBuffered) this.#waiters.shift()?.resolve();
  }
}

/** The error waiting and later bulk sends get when the socket failed under a write. */
function connectionLost(error: Error): Error {
  return createError(
    "ERR_CONNECTION_CLOSED",
    `wire: connection lost while sending: ${describeError(error)}`,
    { cause: error },
  );
}
