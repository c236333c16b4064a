// A fault-injecting TCP proxy for network-failure tests: forwards bytes, and on command cuts,
// stalls, refuses, delays or throttles them.

import { connect, createServer, type Server, type Socket } from "node:net";
import { clearTimeout, setTimeout } from "node:timers";

/** Where the proxy forwards to: a TCP address or a Unix socket path. */
export type FaultProxyTarget = { host: string; port: number } | { path: string };

/** Which way bytes flow: `up` is client → target, `down` is target → client. */
export type FaultDirection = "up" | "down";

/** Options for {@link startFaultProxy}. */
export interface FaultProxyOptions {
  /** The server behind the proxy. */
  target: FaultProxyTarget;
  /** Where the proxy listens; host defaults to "127.0.0.1", port to 0 (a free port). */
  listen?: { host?: string; port?: number };
}

/** A running proxy and its fault controls. Every fault applies until turned off or replaced. */
export interface FaultProxy {
  /** The port the proxy listens on; it keeps it across `refuse(true)` / `refuse(false)`. */
  readonly port: number;
  /** Live connection pairs (client socket plus its upstream socket, if one was dialed). */
  readonly connections: number;
  /** Bytes handed to the far side so far, over all connections (a snapshot). */
  readonly bytesForwarded: { readonly up: number; readonly down: number };
  /** The proxy's address as a URL, e.g. `ws://127.0.0.1:41234/`. */
  url(scheme?: string, path?: string): string;
  /** Resets both sockets of every live pair mid-stream (RST where the socket allows); returns how many. */
  cutAll(): number;
  /**
   * Cuts a connection once `bytes` more have been forwarded in `direction` (exactly that many pass).
   * One-shot: it applies to connections open now or opened before it first fires, never to later
   * ones, so a reconnect after the cut succeeds. A new call replaces the previous rule.
   */
  cutAfter(bytes: number, direction?: FaultDirection): void;
  /**
   * While on, live connections stay open but all data (and FIN/RST) between the two sides is
   * dropped, and new connections are accepted but never dialed upstream: a dead network with TCP
   * still up. Off only affects new connections; a dark pair stays dark because resuming a stream
   * with a hole in it is something real TCP never does.
   */
  blackhole(on?: boolean): void;
  /** While on, the port is closed so connects fail with ECONNREFUSED; off listens on it again. */
  refuse(on?: boolean): Promise<void>;
  /** Adds `ms` of latency to each chunk read from now on, both ways, keeping order; 0 removes it. */
  delay(ms: number): void;
  /** Caps each connection's throughput per direction; 0 or Infinity removes the cap. */
  throttle(bytesPerSecond: number): void;
  /** Stops listening, cuts every connection and waits for their sockets to close. */
  close(): Promise<void>;
}

/** Knobs shared by every lane; read on each chunk so changes apply at once. */
interface Knobs {
  delayMs: number;
  bytesPerSecond: number;
  readonly totals: { up: number; down: number };
}

/** A one-shot `cutAfter` rule. */
interface CutRule {
  readonly bytes: number;
  readonly direction: FaultDirection;
  fired: boolean;
}

/** Bytes a lane may hold in its delay/throttle queue before it stops reading its source. */
const maxQueuedBytes = 1024 * 1024;

/** Throttled lanes send in slices worth this many ms, so the rate is smooth, not bursty. */
const throttleSliceMs = 20;

/** Ends a socket abruptly: RST on TCP; Unix sockets (and sockets still connecting) cannot RST. */
function cut(socket: Socket): void {
  if (socket.destroyed) return;
  if (!socket.connecting && typeof socket.resetAndDestroy === "function") {
    try {
      socket.resetAndDestroy();
      return;
    } catch {
      // A Pipe handle throws ERR_INVALID_HANDLE_TYPE; a plain destroy is the closest we get.
    }
  }
  socket.destroy();
}

/** One direction of a pair: reads `source`, queues for delay/throttle, writes `dest` pipe-like. */
class Lane {
  private readonly queue: { chunk: Buffer; dueAt: number }[] = [];
  private queuedBytes = 0;
  private nextSendAt = 0;
  private awaitingDrain = false;
  private paused = false;
  private sourceEnded = false;
  private timer: NodeJS.Timeout | undefined;
  /** True once blackholed: everything read is dropped and nothing reaches `dest`. */
  dark = false;
  /** Bytes written to `dest` so far. */
  forwarded = 0;
  /** True once `dest.end()` has been called after the source ended. */
  finished = false;
  /** `forwarded` value at which `onCutPoint` runs (set by a `cutAfter` rule). */
  cutAt: number | undefined;
  onCutPoint: () => void = () => {};

  constructor(
    private readonly source: Socket,
    private readonly dest: Socket,
    private readonly direction: FaultDirection,
    private readonly knobs: Knobs,
  ) {
    source.on("data", (chunk: Buffer) => this.push(chunk));
    source.on("end", () => this.onSourceEnd());
    dest.on("drain", () => {
      this.awaitingDrain = false;
      this.pump();
    });
  }

  /** Drops queued data and everything read from now on; the source keeps being read. */
  goDark(): void {
    this.dark = true;
    this.dispose();
    this.updateFlow();
  }

  /** Stops the timer and forgets queued data. */
  dispose(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.length = 0;
    this.queuedBytes = 0;
  }

  private push(chunk: Buffer): void {
    if (this.dark) return;
    // One FIFO per lane: a chunk waits behind its elders, so lowering the delay cannot reorder.
    this.queue.push({ chunk, dueAt: performance.now() + this.knobs.delayMs });
    this.queuedBytes += chunk.length;
    this.pump();
  }

  private onSourceEnd(): void {
    this.sourceEnded = true;
    // A dead network delivers no FIN; answering it on the same socket just releases that socket.
    if (this.dark) this.source.end();
    else this.pump();
  }

  private pump(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.dark || this.dest.destroyed) {
      this.dispose();
      return;
    }
    const rate = this.knobs.bytesPerSecond;
    while (this.queue.length > 0 && !this.awaitingDrain) {
      if (this.reachedCutPoint()) return;
      const head = this.queue[0] as { chunk: Buffer; dueAt: number };
      const now = performance.now();
      const readyAt = Math.max(head.dueAt, this.nextSendAt);
      // Re-checked after the timer fires: libuv's cached clock can fire it a little early.
      if (readyAt > now) {
        this.timer = setTimeout(() => this.pump(), Math.ceil(readyAt - now));
        break;
      }
      const size = this.sliceSize(head.chunk.length, rate);
      const slice = head.chunk.subarray(0, size);
      if (size === head.chunk.length) this.queue.shift();
      else head.chunk = head.chunk.subarray(size);
      this.queuedBytes -= size;
      if (rate > 0) this.nextSendAt = Math.max(this.nextSendAt, now) + (size / rate) * 1000;
      this.awaitingDrain = !this.dest.write(slice);
      this.forwarded += size;
      this.knobs.totals[this.direction] += size;
      if (this.reachedCutPoint()) return;
    }
    if (this.queue.length === 0 && this.sourceEnded && !this.finished) {
      this.finished = true;
      this.dest.end();
    }
    this.updateFlow();
  }

  private sliceSize(available: number, rate: number): number {
    let size = available;
    if (rate > 0) size = Math.min(size, Math.max(1, Math.floor((rate * throttleSliceMs) / 1000)));
    if (this.cutAt !== undefined) size = Math.min(size, this.cutAt - this.forwarded);
    return size;
  }

  private reachedCutPoint(): boolean {
    if (this.cutAt === undefined || this.forwarded < this.cutAt) return false;
    this.cutAt = undefined;
    this.onCutPoint();
    return true;
  }

  /** Pipe-like backpressure: stop reading while `dest` is full or the queue is long. */
  private updateFlow(): void {
    const full = !this.dark && (this.awaitingDrain || this.queuedBytes > maxQueuedBytes);
    if (full && !this.paused) this.source.pause();
    else if (!full && this.paused) this.source.resume();
    this.paused = full;
  }
}

/** A client socket and its upstream socket (none when accepted during a blackhole). */
class Pair {
  private readonly lanes: { up: Lane; down: Lane } | undefined;
  private open: number;

  constructor(
    private readonly client: Socket,
    private readonly upstream: Socket | undefined,
    knobs: Knobs,
    onClosed: () => void,
  ) {
    const sockets = upstream ? [client, upstream] : [client];
    this.open = sockets.length;
    for (const socket of sockets) {
      socket.setNoDelay(true); // a transparent proxy must not add Nagle delays of its own
      socket.on("error", () => {}); // resets are expected here; 'close' handles them
      socket.on("close", (hadError: boolean) => {
        this.onSocketClose(socket, hadError);
        if (--this.open === 0) {
          this.lanes?.up.dispose();
          this.lanes?.down.dispose();
          onClosed();
        }
      });
    }
    if (upstream) {
      this.lanes = {
        up: new Lane(client, upstream, "up", knobs),
        down: new Lane(upstream, client, "down", knobs),
      };
    } else {
      client.on("end", () => client.end());
      client.resume(); // read and drop: nothing is dialed for a connection born in a blackhole
    }
  }

  /** Resets both sockets. */
  cut(): void {
    cut(this.client);
    if (this.upstream) cut(this.upstream);
  }

  /** Blackholes this pair for the rest of its life. */
  goDark(): void {
    this.lanes?.up.goDark();
    this.lanes?.down.goDark();
  }

  /** Arms a `cutAfter` rule on this pair's lane in the rule's direction. */
  arm(rule: CutRule): void {
    const lane = this.lanes?.[rule.direction];
    if (!lane) return;
    lane.cutAt = lane.forwarded + rule.bytes;
    lane.onCutPoint = () => {
      rule.fired = true;
      this.cut();
    };
  }

  /** A socket that closed before both of its lanes finished takes the other side down with it. */
  private onSocketClose(socket: Socket, hadError: boolean): void {
    if (!this.lanes || this.lanes.up.dark) return;
    const other = socket === this.client ? this.upstream : this.client;
    const finished = this.lanes.up.finished && this.lanes.down.finished;
    if (other && !other.destroyed && (hadError || !finished)) cut(other);
  }
}

function listenOn(host: string, port: number, onConnection: (s: Socket) => void): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer({ allowHalfOpen: true }, onConnection);
    server.once("error", reject);
    server.listen({ host, port }, () => {
      server.off("error", reject);
      resolve(server);
    });
  });
}

function dial(target: FaultProxyTarget): Socket {
  return "path" in target
    ? connect({ path: target.path, allowHalfOpen: true })
    : connect({ host: target.host, port: target.port, allowHalfOpen: true });
}

function waitClosed(socket: Socket): Promise<void> {
  return socket.closed ? Promise.resolve() : new Promise((r) => socket.once("close", () => r()));
}

/** Starts a proxy in front of `options.target`; it forwards faithfully until told otherwise. */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const host = options.listen?.host ?? "127.0.0.1";
  const knobs: Knobs = { delayMs: 0, bytesPerSecond: 0, totals: { up: 0, down: 0 } };
  const pairs = new Set<Pair>();
  const sockets = new Set<Socket>();
  let blackholed = false;
  let rule: CutRule | undefined;
  let closed = false;
  // Serialises refuse() calls so two re-listens never race for the same port.
  let transition: Promise<void> = Promise.resolve();

  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  };
  const onConnection = (client: Socket) => {
    if (closed) {
      client.destroy();
      return;
    }
    const upstream = blackholed ? undefined : dial(options.target);
    track(client);
    if (upstream) track(upstream);
    const pair = new Pair(client, upstream, knobs, () => pairs.delete(pair));
    pairs.add(pair);
    if (rule && !rule.fired) pair.arm(rule);
  };

  let listener: Server | undefined = await listenOn(host, options.listen?.port ?? 0, onConnection);
  const address = listener.address();
  if (address === null || typeof address === "string") throw new Error("fault proxy: no port");
  const port = address.port;
  const urlHost = host.includes(":") ? `[${host}]` : host;

  const cutAll = () => {
    const count = pairs.size;
    for (const pair of pairs) pair.cut();
    return count;
  };

  return {
    port,
    get connections() {
      return pairs.size;
    },
    get bytesForwarded() {
      return { ...knobs.totals };
    },
    url: (scheme = "ws", path = "/") => `${scheme}://${urlHost}:${port}${path}`,
    cutAll,
    cutAfter(bytes, direction = "down") {
      if (!Number.isInteger(bytes) || bytes < 0) {
        throw new RangeError(`fault proxy: cutAfter bytes must be a whole number, got ${bytes}`);
      }
      rule = { bytes, direction, fired: false };
      for (const pair of pairs) pair.arm(rule);
    },
    blackhole(on = true) {
      blackholed = on;
      if (on) for (const pair of pairs) pair.goDark();
    },
    refuse(on = true) {
      const apply = async () => {
        if (on && listener) {
          // close() stops accepting at once; its callback would wait for live connections.
          listener.close();
          listener = undefined;
        } else if (!on && !listener && !closed) {
          listener = await listenOn(host, port, onConnection);
        }
      };
      transition = transition.catch(() => undefined).then(apply);
      return transition;
    },
    delay(ms) {
      knobs.delayMs = Math.max(0, ms);
    },
    throttle(bytesPerSecond) {
      knobs.bytesPerSecond = Number.isFinite(bytesPerSecond) ? Math.max(0, bytesPerSecond) : 0;
    },
    async close() {
      closed = true;
      await transition.catch(() => undefined);
      listener?.close();
      listener = undefined;
      cutAll();
      await Promise.all([...sockets].map(waitClosed));
    },
  };
}
