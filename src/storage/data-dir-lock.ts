// A pid lock file that keeps two syncline processes off one data directory. LMDB itself is
// multi-process safe, but each server caches state in memory and assumes it is the only writer.

import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { createError, describeError } from "../protocol/errors.js";

/** A held lock; `release()` removes the lock file if it is still ours. */
export interface DataDirLock {
  readonly path: string;
  release(): void;
}

/** The lock file's name inside the data directory. */
export const lockFileName = "syncline.lock";

/** Lock files this process holds: a lock naming our own pid is stale only if we do not hold it. */
const heldHere = new Set<string>();

/**
 * Takes the lock on `dir` for this process. A lock whose pid no longer runs (after a crash or
 * kill -9) or that is unreadable is taken over; a live holder is ERR_DATA_DIR_LOCKED.
 */
export function acquireDataDirLock(dir: string, pid = process.pid): DataDirLock {
  const path = join(dir, lockFileName);
  for (let attempt = 0; attempt < 3; attempt++) {
    if (tryCreate(path, pid)) {
      heldHere.add(path);
      return { path, release: () => releaseIfOurs(path, pid) };
    }
    const holder = readHolder(path);
    const live = holder === pid ? heldHere.has(path) : holder !== undefined && isRunning(holder);
    if (live) {
      throw createError(
        "ERR_DATA_DIR_LOCKED",
        `store: data directory ${dir} is in use by process ${holder} (lock file ${path})`,
      );
    }
    // Stale (dead pid, garbage, or our own pid reused): remove it and try again.
    try {
      unlinkSync(path);
    } catch {
      // another process removed it first; the next attempt decides
    }
  }
  throw createError(
    "ERR_DATA_DIR_LOCKED",
    `store: cannot take the lock ${path}; another process keeps taking it`,
  );
}

function tryCreate(path: string, pid: number): boolean {
  let fd: number;
  try {
    fd = openSync(path, "wx", 0o644);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw createError(
      "ERR_STORE_OPEN",
      `store: cannot create lock file ${path}: ${describeError(error)}`,
      {
        cause: error,
      },
    );
  }
  try {
    writeSync(fd, `${pid}\n`);
  } finally {
    closeSync(fd);
  }
  return true;
}

function readHolder(path: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(path, "utf8").trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function releaseIfOurs(path: string, pid: number): void {
  if (!heldHere.delete(path) || readHolder(path) !== pid) return;
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}
