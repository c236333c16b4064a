// Stopping a service a test started (nginx, redis-server): SIGTERM, SIGKILL after a grace.

import type { ChildProcess } from "node:child_process";

/** SIGTERM, then SIGKILL if it has not exited within `graceMs`; resolves once it exited. */
export function terminate(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill("SIGKILL"), graceMs);
    child.once("exit", () => {
      clearTimeout(force);
      resolve();
    });
    child.kill("SIGTERM");
  });
}
