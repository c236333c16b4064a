// An advisory lock file that serializes the read-modify-writes of one local file among CLI
// processes (two `syncline share` commands run at once), so neither loses the other's change.
// Not proper-lockfile: it is unmaintained since 2021, judges staleness by mtime only, and its
// ELOCKED error cannot say which process holds the lock; this one names the pid and the age.

import { randomBytes } from "node:crypto";
import { closeSync, openSync, readFileSync, statSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { createError, describeError } from "../protocol/errors.js";
import { createBackoff } from "../util/backoff.js";
import {
  breakStaleLock,
  describeBreakError,
  isProcessRunning,
  unlinkQuietly,
} from "../util/stale-lock.js";

/** Options of `withFileLock`. */
export interface FileLockOptions {
  /** What the lock is for, first in error messages (`share records`). Default `file lock`. */
  readonly context?: string;
  /** Longest wait for a lock held by others, in milliseconds. Default 10000. */
  readonly timeoutMs?: number;
  /**
   * A lock older than this is stale and broken, whoever holds it, in milliseconds. Default 30000:
   * a holder keeps it for milliseconds, so a lock that old is a stopped or hung process.
   */
  readonly staleMs?: number;
}

/** A lock this process holds, handed to the function `withFileLock` runs. */
export interface HeldFileLock {
  /** The lock file's path. */
  readonly path: string;
  /**
   * Throws ERR_FILE_LOCKED when the lock is no longer ours (another process broke it as stale):
   * call it just before committing a write, so a holder that stalled never overwrites newer data.
   */
  assertHeld(): void;
}

/** What a lock file holds: who took it, and when. */
interface LockContent {
  readonly pid: number;
  readonly hostname: string;
  /** When the lock was taken, milliseconds since the epoch. */
  readonly createdAt: number;
  /** Random per acquisition, so a holder recognizes its own lock and no one else's. */
  readonly token: string;
}

/** A lock file as seen by a process waiting for it. */
interface SeenLock {
  readonly text: string;
  readonly content: LockContent | undefined;
  readonly ageMs: number;
}

/** A lock file without parsable content younger than this is one being written; older, garbage. */
const unreadableGraceMs = 2_000;

/** Tokens of the locks this process holds (a reused pid of ours in a lock file is not ours). */
const heldTokens = new Set<string>();

/**
 * Runs `fn` while holding `lockPath`, created exclusively (O_EXCL) with our pid, host, time and
 * a random token in it, and removes it afterwards, whatever `fn` does. While others hold it,
 * retries with a jittered backoff (10–250 ms) for up to `timeoutMs`, then throws ERR_FILE_LOCKED
 * naming the lock file, its holder's pid and the lock's age. A lock whose process is gone (same
 * host), whose content is unreadable, or that is older than `staleMs` is stale and broken.
 */
export async function withFileLock<T>(
  lockPath: string,
  fn: (lock: HeldFileLock) => T | Promise<T>,
  options: FileLockOptions = {},
): Promise<T> {
  const token = await acquire(lockPath, options);
  const context = options.context ?? "file lock";
  try {
    return await fn({ path: lockPath, assertHeld: () => assertHeld(lockPath, token, context) });
  } finally {
    heldTokens.delete(token);
    release(lockPath, token);
  }
}

async function acquire(lockPath: string, options: FileLockOptions): Promise<string> {
  const context = options.context ?? "file lock";
  const timeoutMs = options.timeoutMs ?? 10_000;
  const staleMs = options.staleMs ?? 30_000;
  const token = randomBytes(16).toString("hex");
  const started = Date.now();
  const backoff = createBackoff({ initialMs: 10, maxMs: 250 });
  for (;;) {
    if (tryCreate(lockPath, token, context)) return token;
    const seen = readLock(lockPath);
    const waited = Date.now() - started;
    if (waited >= timeoutMs) throw lockedError(lockPath, seen, { context, waited, staleMs });
    if (seen !== undefined && isStale(seen, staleMs)) {
      breakStale(lockPath, seen.text, context);
    } else if (seen !== undefined) {
      await sleep(Math.min(10 + backoff.next(), timeoutMs - waited));
    }
    // undefined: released meanwhile, so try again at once
  }
}

/** Breaks a stale lock; ERR_LOCAL_FILE when its folder refuses (no waiting for a holder). */
function breakStale(lockPath: string, seen: string, context: string): void {
  try {
    breakStaleLock(lockPath, seen);
  } catch (error) {
    throw createError(
      "ERR_LOCAL_FILE",
      `${context}: cannot remove the stale lock file ${lockPath}: ${describeBreakError(error, lockPath)}`,
      { cause: error },
    );
  }
}

/** Creates the lock file with our content; false when it exists already. */
function tryCreate(lockPath: string, token: string, context: string): boolean {
  let fd: number;
  try {
    fd = openSync(lockPath, "wx", 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw createError(
      "ERR_LOCAL_FILE",
      `${context}: cannot create lock file ${lockPath}: ${describeError(error)}`,
      { cause: error },
    );
  }
  heldTokens.add(token); // now, before anyone in this process can read the lock file
  const content: LockContent = {
    pid: process.pid,
    hostname: hostname(),
    createdAt: Date.now(),
    token,
  };
  try {
    writeSync(fd, `${JSON.stringify(content)}\n`);
  } catch (error) {
    heldTokens.delete(token);
    unlinkQuietly(lockPath);
    throw createError(
      "ERR_LOCAL_FILE",
      `${context}: cannot write lock file ${lockPath}: ${describeError(error)}`,
      { cause: error },
    );
  } finally {
    closeSync(fd);
  }
  return true;
}

function readLock(lockPath: string): SeenLock | undefined {
  let text: string;
  let mtimeMs: number;
  try {
    mtimeMs = statSync(lockPath).mtimeMs;
    text = readFileSync(lockPath, "utf8");
  } catch {
    return undefined;
  }
  const content = parseLock(text);
  return { text, content, ageMs: Date.now() - (content?.createdAt ?? mtimeMs) };
}

function parseLock(text: string): LockContent | undefined {
  try {
    const value = JSON.parse(text) as Partial<LockContent> | null;
    if (
      typeof value === "object" &&
      value !== null &&
      Number.isSafeInteger(value.pid) &&
      (value.pid as number) > 0 &&
      typeof value.hostname === "string" &&
      typeof value.createdAt === "number" &&
      Number.isFinite(value.createdAt)
    ) {
      return { ...value, token: String(value.token ?? "") } as LockContent;
    }
  } catch {
    // not JSON: a lock being written, or garbage
  }
  return undefined;
}

/** True when nobody can be holding `seen` any more, so breaking it is safe. */
function isStale(seen: SeenLock, staleMs: number): boolean {
  const { content, ageMs } = seen;
  if (content === undefined) return ageMs > unreadableGraceMs;
  if (ageMs > staleMs) return true;
  // On another host (a shared home directory) its pid means nothing here: only age tells.
  if (content.hostname !== hostname()) return false;
  if (content.pid === process.pid) return !heldTokens.has(content.token); // pid reused since a crash
  return !isProcessRunning(content.pid);
}

function assertHeld(lockPath: string, token: string, context: string): void {
  const seen = readLock(lockPath);
  if (seen?.content?.token === token) return;
  throw createError(
    "ERR_FILE_LOCKED",
    `${context}: lost lock file ${lockPath} (another process broke it as stale${seen?.content ? ` and process ${seen.content.pid} holds it now` : ""}); nothing was written, run the command again`,
  );
}

function release(lockPath: string, token: string): void {
  if (readLock(lockPath)?.content?.token !== token) return; // broken as stale; not ours now
  unlinkQuietly(lockPath);
}

function lockedError(
  lockPath: string,
  seen: SeenLock | undefined,
  { context, waited, staleMs }: { context: string; waited: number; staleMs: number },
) {
  const content = seen?.content;
  const holder =
    content === undefined
      ? "an unknown process (its content is unreadable)"
      : `process ${content.pid}${content.hostname === hostname() ? "" : ` on host ${content.hostname}`}`;
  const age = seen === undefined ? "" : `, held for ${seconds(seen.ageMs)} s`;
  return createError(
    "ERR_FILE_LOCKED",
    `${context}: lock file ${lockPath} is held by ${holder}${age}; gave up after ${seconds(waited)} s (a lock is broken once its process ends or it is ${seconds(staleMs)} s old; remove the file if no syncline command is running)`,
  );
}

function seconds(ms: number): string {
  return (Math.max(0, ms) / 1000).toFixed(1).replace(/\.0$/, "");
}
