// The resident memory of another process (a `syncline serve` child), read from /proc (Linux) by
// the test, so that measuring does not disturb the measured process; sampled to find its peak.

import { rssOf } from "../../bench/lib/rss.js";

/** Samples the RSS of `pid` every `everyMs` until stopped; `stop()` returns the peak. */
export function sampleRss(pid: number, everyMs = 20): { stop(): number } {
  let peak = rssOf(pid);
  const timer = setInterval(() => {
    peak = Math.max(peak, rssOf(pid));
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, rssOf(pid));
    },
  };
}

/**
 * Waits until the RSS of `pid` stops moving (two readings `everyMs` apart within `slackBytes`),
 * at most `timeoutMs`, and returns it: a baseline taken once a process has settled.
 */
export async function settledRss(
  pid: number,
  { everyMs = 250, slackBytes = 1024 * 1024, timeoutMs = 5000 } = {},
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last = rssOf(pid);
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, everyMs));
    const now = rssOf(pid);
    if (Math.abs(now - last) <= slackBytes) return now;
    last = now;
  }
  return last;
}
