// The recent writes of one share, kept so a viewer reconnecting with `since` gets only what it
// missed. Bounded by frame count and bytes; when a viewer asks for more than it holds, it says so
// and the viewer gets the full state instead. Pure: no I/O.

/** One logged write: its sequence number and its encoded update frame. */
export interface LoggedFrame<Frame extends { readonly byteLength: number }> {
  readonly seq: number;
  readonly frame: Frame;
}

/** Bounds of a log. */
export interface ShareLogLimits {
  /** Most frames kept. */
  readonly maxFrames: number;
  /** Most bytes of frames kept (a single bigger frame is still kept, alone). */
  readonly maxBytes: number;
}

/** A bounded, contiguous run of the latest writes: seqs `first … last` with no gaps. */
export class ShareLog<Frame extends { readonly byteLength: number }> {
  #frames: LoggedFrame<Frame>[] = [];
  /** Index of the oldest kept frame in #frames; dropped ones are cut off in chunks. */
  #start = 0;
  #bytes = 0;

  constructor(private readonly limits: ShareLogLimits) {}

  /** Frames kept now. */
  get size(): number {
    return this.#frames.length - this.#start;
  }

  /** Appends the next write; its seq must follow the last one's (the log stays contiguous). */
  append(seq: number, frame: Frame): void {
    const last = this.#frames[this.#frames.length - 1];
    if (this.size > 0 && last && seq !== last.seq + 1) {
      // A gap would make catch-up skip writes silently; start over from this write instead.
      this.#frames = [];
      this.#start = 0;
      this.#bytes = 0;
    }
    this.#frames.push({ seq, frame });
    this.#bytes += frame.byteLength;
    while (
      this.size > 1 &&
      (this.size > this.limits.maxFrames || this.#bytes > this.limits.maxBytes)
    ) {
      this.#bytes -= (this.#frames[this.#start] as LoggedFrame<Frame>).frame.byteLength;
      this.#start++;
    }
    if (this.#start > 1024 && this.#start * 2 > this.#frames.length) {
      this.#frames = this.#frames.slice(this.#start);
      this.#start = 0;
    }
  }

  /**
   * The frames after `since`, in order, for a share whose latest durable write is `current`:
   * `[]` when the viewer is up to date, undefined when the log cannot tell (it no longer holds
   * `since + 1`, or `since` is not a seq this share has reached — another incarnation).
   */
  after(since: number, current: number): LoggedFrame<Frame>[] | undefined {
    if (!Number.isSafeInteger(since) || since < 0 || since > current) return undefined;
    if (since === current) return [];
    const first = this.#frames[this.#start];
    if (!first || first.seq > since + 1) return undefined;
    return this.#frames.slice(this.#start + (since + 1 - first.seq));
  }
}
