// The pieces every pid lock file needs (the data directory's, the CLI's records file's): whether
// the process a lock names still runs, and breaking a stale lock so that of several processes
// doing it at once only one succeeds.

import { randomBytes } from "node:crypto";
import { linkSync, readFileSync, renameSync, unlinkSync } from "node:fs";
import { dirname } from "node:path";

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
 * Throws the rename's error unless it is ENOENT: a folder this user cannot change (EACCES,
 * EPERM, EROFS) fails the same way every round, so a caller that looked again would only wait
 * and then blame a holder that does not exist. `describeBreakError` words it.
 */
export function breakStaleLock(lockPath: string, seen: string): void {
  const aside = `${lockPath}.${process.pid}.${randomBytes(4).toString("hex")}.stale`;
  try {
    renameSync(lockPath, aside);
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return; // someone else moved it first; look again
    throw error;
  }
  try {
    if (readFileSync(aside, "utf8") !== seen) linkSync(aside, lockPath);
  } catch {
    // a newer lock appeared at lockPath meanwhile; the next round sees it
  } finally {
    unlinkQuietly(aside);
  }
}

/**
 * Why `breakStaleLock(lockPath)` failed, for a one-line message: a change the folder refuses is
 * "permission denied in folder DIR", whatever the user then has to fix is named.
 */
export function describeBreakError(error: unknown, lockPath: string): string {
  const code = errnoCode(error);
  const folder = dirname(lockPath);
  if (code === "EACCES" || code === "EPERM")
    return `permission denied in folder ${folder} (${code})`;
  if (code === "EROFS") return `permission denied in folder ${folder} (read-only file system)`;
  return error instanceof Error ? error.message : String(error);
}

function errnoCode(error: unknown): unknown {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/** Removes `path` if it is there. */
export function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}
