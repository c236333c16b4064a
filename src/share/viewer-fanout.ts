// The read path's hot loop: sends each encoded frame, as the same bytes, to every viewer of a
// share. Frames are not written one by one: those broadcast close together are written to each
// socket as one batch, concatenated once for all viewers, so that a busy share costs one write
// (one system call, one TCP segment, one read on the viewer's side) per viewer per batch rather
// than per frame. A quiet share is not delayed: a broadcast made more than `flushIntervalMs`
// after the last write goes out at the end of the current turn; only broadcasts that follow
// sooner wait, until that interval has passed since the last write.
//
// A viewer that joins is first streamed its full state (or catch-up frames) under backpressure,
// the shared bytes of the share's snapshot a batch at a time as it reads them; broadcasts made
// meanwhile wait for it in its backlog. A viewer whose backlog, or once live whose unsent bytes,
// pass `maxBufferedBytes` is closed with 4429 instead of being buffered for without limit.

import { ShareCloseCode } from "../protocol/close-codes.js";
import { type BodySink, writeStreamed } from "../util/streamed-body.js";
import { type EncodedFrame, FrameBatch } from "./encoded-frame.js";
import type { ViewerStart } from "./share-snapshot.js";

/**
 * What the fan-out needs of a viewer's socket (see ws-viewer.ts for the `ws` adapter): it writes
 * prebuilt WebSocket frames, whole, shared by every viewer and never changed.
 */
export interface ViewerSocket extends BodySink {
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
  /**
   * Bytes of live frames a viewer may have unsent before it is closed: queued on its socket, or
   * waiting in its backlog while its full state streams.
   */
  readonly maxBufferedBytes: number;
  /** Least time between two batches, ms: what a frame may wait for others to join it. */
  readonly flushIntervalMs: number;
}

/** Pending bytes that make a batch go out at the end of the turn whatever the interval. */
const maxPendingBytes = 1024 * 1024;

interface Viewer {
  readonly socket: ViewerSocket;
  /**
   * The first pending frame this viewer still needs: a viewer that joins while frames are
   * pending already has them in its full state (they were committed before it joined).
   */
  from: number;
  /** While its first frames stream: the live frames broadcast since, sent once they are done. */
  backlog: EncodedFrame[] | undefined;
  backlogBytes: number;
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

  /**
   * Adds a viewer: streams it `start` (its full state or catch-up frames), then every broadcast
   * made since it was added, in order.
   */
  add(socket: ViewerSocket, start: ViewerStart): void {
    const viewer: Viewer = { socket, from: this.#pending.length, backlog: [], backlogBytes: 0 };
    this.#viewers.set(socket, viewer);
    if (start.frames === 0) viewer.backlog = undefined;
    else {
      this.#stream(viewer, start).catch(() => {
        this.#viewers.delete(socket);
        socket.close(ShareCloseCode.storageFailed, "share unavailable; retry");
      });
    }
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
      if (viewer.backlog !== undefined) {
        this.#queue(viewer, from === 0 ? frames : frames.slice(from));
        continue;
      }
      const backlog = socket.bufferedAmount();
      if (backlog > this.limits.maxBufferedBytes) {
        this.#tooSlow(viewer, backlog);
        continue;
      }
      let batch = batches.get(from);
      if (batch === undefined) {
        batch = new FrameBatch(from === 0 ? frames : frames.slice(from));
        batches.set(from, batch);
      }
      socket.write([batch.wire]);
      delivered += frames.length - from;
    }
    this.observer.delivered(delivered);
  }

  /**
   * Streams `start` to a viewer as it reads, then its backlog, and makes it live; stops when the
   * viewer leaves (closed, deleted, too slow) meanwhile.
   */
  async #stream(viewer: Viewer, start: ViewerStart): Promise<void> {
    const complete = await writeStreamed(viewer.socket, start.body.units());
    if (!complete || this.#viewers.get(viewer.socket) !== viewer) return;
    this.observer.delivered(start.frames);
    const backlog = viewer.backlog ?? [];
    viewer.backlog = undefined;
    viewer.backlogBytes = 0;
    if (backlog.length === 0) return;
    viewer.socket.write(backlog.map((frame) => frame.wire));
    this.observer.delivered(backlog.length);
  }

  /** Keeps live frames for a viewer whose first frames still stream; too many: it is too slow. */
  #queue(viewer: Viewer, frames: readonly EncodedFrame[]): void {
    const backlog = viewer.backlog as EncodedFrame[];
    for (const frame of frames) {
      backlog.push(frame);
      viewer.backlogBytes += frame.wire.byteLength;
    }
    if (viewer.backlogBytes > this.limits.maxBufferedBytes) {
      this.#tooSlow(viewer, viewer.backlogBytes + viewer.socket.bufferedAmount());
    }
  }

  #tooSlow(viewer: Viewer, bufferedBytes: number): void {
    this.#viewers.delete(viewer.socket);
    viewer.backlog = undefined;
    this.observer.slowViewer?.(bufferedBytes);
    viewer.socket.close(
      ShareCloseCode.tooSlow,
      "viewer too slow; reconnect with since to catch up",
    );
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
