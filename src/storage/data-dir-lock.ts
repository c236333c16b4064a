// A pid lock file that keeps two syncline processes off one data directory: LMDB itself is
// multi-process safe, but each server caches state in memory and assumes it is the only writer.

import { closeSync, openSync, readFileSync, statSync, writeSync } from "node:fs";
import { join, resolve } from "node:path";
import { createError, describeError } from "../protocol/errors.js";
import {
  breakStaleLock,
  describeBreakError,
  isProcessRunning,
  unlinkQuietly,
} from "../util/stale-lock.js";

/** A held lock on a data directory. */
export interface DataDirLock {
  /** The lock file, `<dir>/syncline.lock`. */
  readonly path: string;
  /** Removes the lock file if it is still ours; calling it again does nothing. */
  release(): void;
}

/** The lock file's name inside the data directory. */
export const lockFileName = "syncline.lock";

/**
 * An empty lock file younger than this is a lock being written (created, pid not yet in it);
 * older, it is the leftover of a crash between the two steps.
 */
const emptyLockGraceMs = 5_000;

/** Lock files this process holds: a lock naming our own pid is live only if it is in here. */
const heldHere = new Set<string>();

/**
 * Takes the lock on `dir` for this process: creates `<dir>/syncline.lock` exclusively with our
 * pid in it. A lock held by a running process (this one included) is ERR_DATA_DIR_LOCKED naming
 * the pid; a lock whose process is gone (crash, kill -9) or whose content is garbage is taken
 * over. A lock file that cannot be created at all is ERR_STORE_OPEN.
 */
export function acquireDataDirLock(dir: string): DataDirLock {
  const path = join(resolve(dir), lockFileName);
  // A few rounds: each lost race (another process removing or taking the lock) costs one.
  for (let round = 0; round < 5; round++) {
    if (tryCreate(path)) {
      heldHere.add(path);
      return { path, release: () => release(path) };
    }
    const seen = readLock(path);
    if (seen === undefined) continue; // removed meanwhile
    const holder = liveHolder(path, seen);
    if (holder !== undefined) {
      throw createError(
        "ERR_DATA_DIR_LOCKED",
        `store: data directory ${dir} is in use by ${holder} (lock file ${path})`,
      );
    }
    breakStale(dir, path, seen.text);
  }
  throw createError(
    "ERR_DATA_DIR_LOCKED",
    `store: data directory ${dir} keeps being locked by other processes (lock file ${path})`,
  );
}

/** Breaks a stale lock; ERR_STORE_OPEN when the data directory refuses the change. */
function breakStale(dir: string, path: string, seen: string): void {
  try {
    breakStaleLock(path, seen);
  } catch (error) {
    throw createError(
      "ERR_STORE_OPEN",
      `store: data directory ${dir}: cannot remove the stale lock file ${path}: ${describeBreakError(error, path)}`,
      { cause: error },
    );
  }
}

interface SeenLock {
  readonly text: string;
  readonly ageMs: number;
}

function tryCreate(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, "wx", 0o644);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw createError(
      "ERR_STORE_OPEN",
      `store: cannot create lock file ${path}: ${describeError(error)}`,
      { cause: error },
    );
  }
  try {
    writeSync(fd, `${process.pid}\n`);
  } catch (error) {
    // A full disk takes the file but not the pid: left empty, it would read as a lock being
    // written and refuse the next start for a few seconds.
    unlinkQuietly(path);
    throw createError(
      "ERR_STORE_OPEN",
      `store: cannot write lock file ${path}: ${describeError(error)}`,
      { cause: error },
    );
  } finally {
    closeSync(fd);
  }
  return true;
}

function readLock(path: string): SeenLock | undefined {
  try {
    const ageMs = Date.now() - statSync(path).mtimeMs;
    return { text: readFileSync(path, "utf8"), ageMs };
  } catch {
    return undefined;
  }
}

/** Who holds the lock, when that holder still runs; undefined when the lock is stale. */
function liveHolder(path: string, seen: SeenLock): string | undefined {
  if (seen.text === "") return seen.ageMs < emptyLockGraceMs ? "a starting process" : undefined;
  const pid = parsePid(seen.text);
  if (pid === undefined) return undefined; // garbage
  // Our own pid in a lock we do not hold is a pid reused since a crash (pid 1 in containers).
  if (pid === process.pid) return heldHere.has(path) ? `this process (${pid})` : undefined;
  return isProcessRunning(pid) ? `process ${pid}` : undefined;
}

function parsePid(text: string): number | undefined {
  const trimmed = text.trim();
  if (!/^\d{1,10}$/.test(trimmed)) return undefined;
  const pid = Number(trimmed);
  return pid > 0 && pid <= 0x7fffffff ? pid : undefined;
}

function release(path: string): void {
  if (!heldHere.delete(path)) return;
  try {
    if (parsePid(readFileSync(path, "utf8")) !== process.pid) return;
  } catch {
    return; // already gone
  }
  unlinkQuietly(path);
}
