// The read path's hot loop: sends each encoded frame, as the same bytes, to every viewer of a
// share. Frames are not written one by one: those broadcast close together are written to each
// socket as one batch, concatenated once for all viewers, so that a busy share costs one write
// (one system call, one TCP segment, one read on the viewer's side) per viewer per batch rather
// than per frame. A quiet share is not delayed: a broadcast made more than `flushIntervalMs`
// after the last write goes out at the end of the current turn; only broadcasts that follow
// sooner wait, until that interval has passed since the last write. A viewer whose unsent bytes
// pass its allowance is closed with 4429 instead of being buffered for without limit.

import { ShareCloseCode } from "../protocol/close-codes.js";
import { type EncodedFrame, FrameBatch } from "./encoded-frame.js";

/** What the fan-out needs of a viewer's socket (see ws-viewer.ts for the `ws` adapter). */
export interface ViewerSocket {
  /** Sends the batch's frames in order; the batch is shared by every viewer and never changed. */
  send(batch: FrameBatch): void;
  /** Bytes queued in user space and not yet handed to the kernel. */
  bufferedAmount(): number;
  close(code: number, reason: string): void;
}

/** What the fan-out reports. */
export interface FanoutObserver {
  /** `count` frames were handed to viewers' sockets. */
  delivered(count: number): void;
  /** A viewer was closed for falling behind. */
  slowViewer?(bufferedBytes: number): void;
}

/** How the fan-out batches and bounds. */
export interface FanoutLimits {
  /** Unsent bytes a viewer may have before it is closed (plus the size of its initial dump). */
  readonly maxBufferedBytes: number;
  /** Least time between two batches, ms: what a frame may wait for others to join it. */
  readonly flushIntervalMs: number;
}

/** Pending bytes that make a batch go out at the end of the turn whatever the interval. */
const maxPendingBytes = 1024 * 1024;

interface Viewer {
  readonly socket: ViewerSocket;
  /** Unsent bytes allowed: the limit, plus the initial dump it was sent (that may be larger). */
  readonly allowance: number;
  /**
   * The first pending frame this viewer still needs: a viewer that joins while frames are
   * pending already has them in its initial state (they were committed before it joined).
   */
  from: number;
}

/** The viewers of one share. */
export class ViewerFanout {
  readonly #viewers = new Map<ViewerSocket, Viewer>();
  #pending: EncodedFrame[] = [];
  #pendingBytes = 0;
  #lastFlushAt = Number.NEGATIVE_INFINITY;
  #scheduled: "turn" | NodeJS.Timeout | undefined;

  constructor(
    private readonly limits: FanoutLimits,
    private readonly observer: FanoutObserver,
  ) {}

  get size(): number {
    return this.#viewers.size;
  }

  /** Adds a viewer after sending it `first` (its initial state or catch-up frames) at once. */
  add(socket: ViewerSocket, first: readonly EncodedFrame[]): void {
    let bytes = 0;
    for (const frame of first) bytes += frame.byteLength;
    this.#viewers.set(socket, {
      socket,
      allowance: this.limits.maxBufferedBytes + bytes,
      from: this.#pending.length,
    });
    if (first.length === 0) return;
    socket.send(new FrameBatch(first));
    this.observer.delivered(first.length);
  }

  /** Forgets a viewer (its socket closed). */
  delete(socket: ViewerSocket): boolean {
    return this.#viewers.delete(socket);
  }

  /** Queues `frames` for every current viewer, in order (see the header for when they leave). */
  broadcast(frames: readonly EncodedFrame[]): void {
    if (frames.length === 0 || this.#viewers.size === 0) return;
    for (const frame of frames) {
      this.#pending.push(frame);
      this.#pendingBytes += frame.byteLength;
    }
    this.#schedule();
  }

  /** Sends what is pending, then closes every viewer with `code` and forgets them. */
  closeAll(code: number, reason: string): void {
    this.flush();
    const sockets = [...this.#viewers.keys()];
    this.#viewers.clear();
    for (const socket of sockets) socket.close(code, reason);
  }

  /** Writes the pending frames to every viewer now (one batch each). */
  flush(): void {
    if (this.#scheduled !== undefined && this.#scheduled !== "turn") clearTimeout(this.#scheduled);
    this.#scheduled = undefined;
    const frames = this.#pending;
    if (frames.length === 0) return;
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#lastFlushAt = performance.now();
    // Most viewers need the whole batch; one that joined meanwhile needs only its tail.
    const batches = new Map<number, FrameBatch>();
    let delivered = 0;
    for (const viewer of this.#viewers.values()) {
      const from = viewer.from;
      viewer.from = 0;
      if (from >= frames.length) continue;
      const { socket } = viewer;
      const backlog = socket.bufferedAmount();
      if (backlog > viewer.allowance) {
        this.#viewers.delete(socket);
        this.observer.slowViewer?.(backlog);
        socket.close(ShareCloseCode.tooSlow, "viewer too slow; reconnect with since to catch up");
        continue;
      }
      let batch = batches.get(from);
      if (batch === undefined) {
        batch = new FrameBatch(from === 0 ? frames : frames.slice(from));
        batches.set(from, batch);
      }
      socket.send(batch);
      delivered += frames.length - from;
    }
    this.observer.delivered(delivered);
  }

  #schedule(): void {
    if (this.#scheduled === "turn") return;
    const wait = this.#lastFlushAt + this.limits.flushIntervalMs - performance.now();
    if (wait > 0 && this.#pendingBytes < maxPendingBytes) {
      this.#scheduled ??= setTimeout(() => this.flush(), wait);
      return;
    }
    if (this.#scheduled !== undefined) clearTimeout(this.#scheduled);
    this.#scheduled = "turn";
    // After the current tick and its promise jobs: every broadcast made in them (several syncs
    // made durable by one commit resolve together) joins one batch.
    process.nextTick(() => {
      if (this.#scheduled === "turn") this.flush();
    });
  }
}
