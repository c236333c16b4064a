// The read path's hot loop: sends each encoded frame, as the same bytes, to every viewer of a
// share. Sockets written during one event-loop turn stay corked until the turn ends, so a burst
// of frames leaves as few writes as possible; a viewer whose unsent bytes from earlier turns pass
// its allowance is closed with 4429 instead of being buffered for without limit (what one viewer
// can hold is its allowance plus one turn's burst).

import { ShareCloseCode } from "../protocol/share-frames.js";
import type { EncodedFrame } from "./encoded-frame.js";

/** What the fan-out needs of a viewer's socket (see ws-viewer.ts for the `ws` adapter). */
export interface ViewerSocket {
  /** Sends one text frame; the frame is shared by every viewer and must not be changed. */
  send(frame: EncodedFrame): void;
  /** Bytes queued in user space and not yet handed to the kernel. */
  bufferedAmount(): number;
  /** Holds writes until `uncork` (batching them into fewer syscalls). */
  cork(): void;
  uncork(): void;
  close(code: number, reason: string): void;
}

/** What the fan-out reports. */
export interface FanoutObserver {
  /** `count` frames were handed to viewers' sockets. */
  delivered(count: number): void;
  /** A viewer was closed for falling behind. */
  slowViewer?(bufferedBytes: number): void;
}

interface Viewer {
  readonly socket: ViewerSocket;
  /** Unsent bytes allowed: the limit, plus the initial dump it was sent (that may be larger). */
  readonly allowance: number;
}

/** The viewers of one share. */
export class ViewerFanout {
  readonly #viewers = new Map<ViewerSocket, Viewer>();
  readonly #corked = new Set<ViewerSocket>();
  #uncorkScheduled = false;

  constructor(
    private readonly maxBufferedBytes: number,
    private readonly observer: FanoutObserver,
  ) {}

  get size(): number {
    return this.#viewers.size;
  }

  /** Adds a viewer after sending it `first` (its initial state or catch-up frames). */
  add(socket: ViewerSocket, first: readonly EncodedFrame[]): void {
    let bytes = 0;
    for (const frame of first) bytes += frame.byteLength;
    const viewer = { socket, allowance: this.maxBufferedBytes + bytes };
    this.#viewers.set(socket, viewer);
    this.#deliver(viewer, first);
  }

  /** Forgets a viewer (its socket closed). */
  delete(socket: ViewerSocket): boolean {
    this.#corked.delete(socket);
    return this.#viewers.delete(socket);
  }

  /** Sends `frames` to every viewer, in order. */
  broadcast(frames: readonly EncodedFrame[]): void {
    if (frames.length === 0) return;
    for (const viewer of this.#viewers.values()) this.#deliver(viewer, frames);
  }

  /** Closes every viewer with `code` and forgets them. */
  closeAll(code: number, reason: string): void {
    const sockets = [...this.#viewers.keys()];
    this.#viewers.clear();
    for (const socket of sockets) socket.close(code, reason);
  }

  #deliver(viewer: Viewer, frames: readonly EncodedFrame[]): void {
    if (frames.length === 0) return;
    const { socket } = viewer;
    if (!this.#corked.has(socket)) {
      // Measured before this turn's first send: while corked, the queue also holds the burst
      // being written now, which says nothing about how far behind the viewer is.
      const backlog = socket.bufferedAmount();
      if (backlog > viewer.allowance) {
        this.#viewers.delete(socket);
        this.observer.slowViewer?.(backlog);
        socket.close(ShareCloseCode.tooSlow, "viewer too slow; reconnect with since to catch up");
        return;
      }
      socket.cork();
      this.#corked.add(socket);
      this.#scheduleUncork();
    }
    for (const frame of frames) socket.send(frame);
    this.observer.delivered(frames.length);
  }

  #scheduleUncork(): void {
    if (this.#uncorkScheduled) return;
    this.#uncorkScheduled = true;
    // After the current tick and its promise jobs: every broadcast made in them (several syncs
    // made durable by one commit resolve together) goes out in one write per socket.
    process.nextTick(() => {
      this.#uncorkScheduled = false;
      const sockets = [...this.#corked];
      this.#corked.clear();
      for (const socket of sockets) socket.uncork();
    });
  }
}
