// Resident memory of child processes, read from /proc (Linux) by the parent, so measuring does
// not disturb the measured process; sampled to find each process's peak.

import { readFileSync } from "node:fs";

/** The resident set size of `pid` in bytes (0 once the process is gone). */
export function rssOf(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Samples the RSS of `pids` every `everyMs` until stopped; returns the peak of each. */
export function sampleRss(pids: readonly number[], everyMs = 50): { stop(): number[] } {
  const peaks = pids.map(rssOf);
  const timer = setInterval(() => {
    pids.forEach((pid, i) => {
      peaks[i] = Math.max(peaks[i] as number, rssOf(pid));
    });
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      return peaks;
    },
  };
}
