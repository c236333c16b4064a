// The pieces every pid lock file needs (the data directory's, the CLI's records file's): whether
// the process a lock names still runs, and breaking a stale lock so that of several processes
// doing it at once only one succeeds.

import { randomBytes } from "node:crypto";
import { linkSync, readFileSync, renameSync, unlinkSync } from "node:fs";

/** True while process `pid` exists on this host (also when it belongs to another user). */
export function isProcessRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user; ESRCH: there is no such process.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Removes the stale lock at `lockPath` whose content was `seen`. It is moved aside first
 * (atomically), so of two processes breaking it at once only one removes it; if what was moved
 * is no longer that stale lock, someone took the lock meanwhile and it is put back for them.
 */
export function breakStaleLock(lockPath: string, seen: string): void {
  const aside = `${lockPath}.${process.pid}.${randomBytes(4).toString("hex")}.stale`;
  try {
    renameSync(lockPath, aside);
  } catch {
    return; // someone else moved it first; the next round looks again
  }
  try {
    if (readFileSync(aside, "utf8") !== seen) linkSync(aside, lockPath);
  } catch {
    // a newer lock appeared at lockPath meanwhile; the next round sees it
  } finally {
    unlinkQuietly(aside);
  }
}

/** Removes `path` if it is there. */
export function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}
