// The server's one output budget: every connection it writes to (a share viewer, an automerge
// peer, a /wire connection, an HTTP response) is tracked with what it has queued and the peer has
// not read. A connection that stays over its own bound for the grace period is cut, so is one
// that has something queued and takes none of it for the grace period (a stalled reader pins
// whatever it was sent, however little), and when all of them together pass the total, the
// largest are cut first. Liveness is reading: an unsolicited pong keeps nobody alive here.

/** A connection the server writes to, as the budget sees it. */
export interface OutputStream {
  /** The endpoint it belongs to, for metrics and logs: `share`, `automerge`, `wire`, `http`. */
  readonly endpoint: string;
  /** Bytes queued for the peer and not yet taken by it (socket and WebSocket buffers). */
  buffered(): number;
  /**
   * A figure that changes whenever the peer takes bytes (e.g. bytes the operating system has
   * accepted), to tell a slow reader from a stalled one; without it only the bound applies.
   */
  progress?(): number;
  /** Ends the connection because its peer does not read (a close code, or an abort). */
  cut(reason: string): void;
}

/** A tracked connection. */
export interface TrackedOutput {
  /**
   * Whether `bytes` more may be queued now: within the connection's bound (a connection with
   * nothing queued may always take one message, however large) and within the total. Traffic the
   * server may drop (ephemeral messages) asks first; what it must send is sent and the sweep
   * judges it.
   */
  admits(bytes: number): boolean;
  /** Stops tracking (the connection closed). */
  untrack(): void;
}

/** The budget's limits. */
export interface OutputBudgetOptions {
  /** Most bytes one connection may keep queued past the grace period. */
  readonly perConnectionBytes: number;
  /** Most bytes all connections together may keep queued; past it the largest are cut. */
  readonly totalBytes: number;
  /** How long a connection may stay over its bound before it is cut, ms. */
  readonly graceMs: number;
  /** How often the budget is checked, ms. Default a quarter of the grace, 100 to 1000. */
  readonly checkIntervalMs?: number;
  /** Told of every cut (metrics, one log line). */
  readonly onCut?: (stream: OutputStream, reason: string, bufferedBytes: number) => void;
  /** Told of the total after every check (a gauge). */
  readonly onTotal?: (bufferedBytes: number) => void;
}

interface Entry {
  readonly stream: OutputStream;
  buffered: number;
  /** When it went over its bound (undefined while within it). */
  overSince: number | undefined;
  /** `progress()` at the last check, and the check it last moved at (or found nothing queued). */
  progress: number;
  movedAt: number | undefined;
}

/** Creates the budget; `stop()` it on shutdown. */
export class OutputBudget {
  readonly #options: OutputBudgetOptions;
  readonly #entries = new Set<Entry>();
  readonly #timer: NodeJS.Timeout;
  /** The total at the last check, plus what was admitted since (reconciled at each check). */
  #total = 0;

  constructor(options: OutputBudgetOptions) {
    this.#options = options;
    const interval =
      options.checkIntervalMs ?? Math.max(100, Math.min(1000, Math.floor(options.graceMs / 4)));
    this.#timer = setInterval(() => this.check(), interval);
    this.#timer.unref();
  }

  /** Bytes queued over every tracked connection at the last check (plus admitted since). */
  get totalBuffered(): number {
    return this.#total;
  }

  /** Tracks `stream` until `untrack()`. */
  track(stream: OutputStream): TrackedOutput {
    const entry: Entry = {
      stream,
      buffered: 0,
      overSince: undefined,
      progress: stream.progress?.() ?? 0,
      movedAt: undefined,
    };
    this.#entries.add(entry);
    return {
      admits: (bytes) => this.#admits(entry, bytes),
      untrack: () => {
        this.#entries.delete(entry);
      },
    };
  }

  /** Measures every connection, cuts those over their bound past the grace, then the largest. */
  check(now = Date.now()): void {
    let total = 0;
    for (const entry of this.#entries) {
      entry.buffered = entry.stream.buffered();
      const problem = this.#problem(entry, now);
      if (problem !== undefined) {
        this.#cut(entry, problem);
        continue;
      }
      total += entry.buffered;
    }
    this.#total = this.#cutLargest(total);
    this.#options.onTotal?.(this.#total);
  }

  /** Stops checking (shutdown); tracked connections are left to close themselves. */
  stop(): void {
    clearInterval(this.#timer);
  }

  /** Why `entry` must be cut now (over its bound, or stalled, past the grace), if it must. */
  #problem(entry: Entry, now: number): string | undefined {
    const { perConnectionBytes, graceMs } = this.#options;
    const progress = entry.stream.progress?.();
    const moved = progress === undefined || progress !== entry.progress || entry.buffered === 0;
    if (moved || entry.movedAt === undefined) entry.movedAt = now;
    if (progress !== undefined) entry.progress = progress;
    if (now - entry.movedAt >= graceMs) return `read nothing of what it was sent for ${graceMs} ms`;
    if (entry.buffered <= perConnectionBytes) entry.overSince = undefined;
    else entry.overSince ??= now;
    if (entry.overSince !== undefined && now - entry.overSince >= graceMs) {
      return `more than ${perConnectionBytes} bytes unread for ${graceMs} ms`;
    }
    return undefined;
  }

  #admits(entry: Entry, bytes: number): boolean {
    const queued = entry.stream.buffered();
    const withinConnection = queued === 0 || queued + bytes <= this.#options.perConnectionBytes;
    if (!withinConnection || this.#total + bytes > this.#options.totalBytes) return false;
    this.#total += bytes;
    return true;
  }

  /** Over the total, cuts the connections with the most queued until the rest fit; the rest. */
  #cutLargest(total: number): number {
    if (total <= this.#options.totalBytes) return total;
    const largest = [...this.#entries].sort((a, b) => b.buffered - a.buffered);
    let left = total;
    for (const entry of largest) {
      if (left <= this.#options.totalBytes || entry.buffered === 0) break;
      left -= entry.buffered;
      this.#cut(entry, `the server's output budget of ${this.#options.totalBytes} bytes is full`);
    }
    return left;
  }

  #cut(entry: Entry, reason: string): void {
    this.#entries.delete(entry);
    this.#options.onCut?.(entry.stream, reason, entry.buffered);
    entry.stream.cut(reason);
  }
}
