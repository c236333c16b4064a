// CPU time of child processes, read from /proc (Linux) by the parent: tells which process a
// phase was waiting on (server, client or observer) on the shared 2-core machine.

import { readFileSync } from "node:fs";

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on Linux). */
const ticksPerSecond = 100;

/** User + system CPU seconds `pid` has used so far (0 once the process is gone). */
export function cpuOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces) start after the last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
  } catch {
    return 0;
  }
}

/**
 * Busy CPU seconds of the whole machine so far, all cores (user, nice, system, irq, softirq,
 * steal from /proc/stat): less the processes under test, what else ran beside them.
 */
export function machineCpu(): number {
  try {
    const fields = readFileSync("/proc/stat", "utf8").split("\n", 1)[0]?.trim().split(/\s+/) ?? [];
    // cpu user nice system idle iowait irq softirq steal …
    const busy = [1, 2, 3, 6, 7, 8].reduce((sum, i) => sum + Number(fields[i] ?? 0), 0);
    return busy / ticksPerSecond;
  } catch {
    return 0;
  }
}
