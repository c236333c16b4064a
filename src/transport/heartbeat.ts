// Liveness by wall-clock deadline: any received frame counts as alive; when nothing arrived for
// interval + grace the peer is declared dead. Deadlines use Date.now(), not timer counts, so a
// laptop waking from sleep (timers frozen, clock moved on) notices at the first check.

/** Options of a heartbeat monitor. */
export interface HeartbeatOptions {
  /** How often the other side promises to send something (a ping), in ms. Default 20000. */
  readonly intervalMs?: number;
  /** Extra time allowed beyond the interval before declaring the peer dead, in ms. Default 10000. */
  readonly graceMs?: number;
  /** How often the deadline is checked, in ms. Default min(1000, interval / 4). */
  readonly checkEveryMs?: number;
  /** Called once when the deadline passes; the monitor stops itself first. */
  readonly onTimeout: (silentForMs: number) => void;
  /** The wall clock; injectable for tests. */
  readonly now?: () => number;
}

/** A running monitor. */
export interface Heartbeat {
  /** Records that something arrived from the peer. */
  alive(): void;
  /** Stops checking (on close). */
  stop(): void;
}

/** Starts a monitor; the deadline is interval + grace after the last `alive()`. */
export function startHeartbeat(options: HeartbeatOptions): Heartbeat {
  const intervalMs = options.intervalMs ?? 20_000;
  const deadlineMs = intervalMs + (options.graceMs ?? 10_000);
  const now = options.now ?? Date.now;
  let last = now();
  const timer = setInterval(check, options.checkEveryMs ?? Math.min(1000, intervalMs / 4));
  timer.unref?.();

  function check(): void {
    const silentFor = now() - last;
    if (silentFor <= deadlineMs) return;
    clearInterval(timer);
    options.onTimeout(silentFor);
  }

  return {
    alive() {
      last = now();
    },
    stop() {
      clearInterval(timer);
    },
  };
}
