// The data-directory lock: exclusive while held, stale locks taken over, foreign locks respected.

import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { acquireDataDirLock, lockFileName } from "./data-dir-lock.js";

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
}

/** The pid of a process that has already exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ["-e", ""]);
  return child.pid as number;
}

describe("data dir lock", () => {
  let dir: string;
  let lockPath: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "syncline-lock-"));
    lockPath = join(dir, lockFileName);
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("writes our pid, refuses a second holder, and frees the directory on release", () => {
    const lock = acquireDataDirLock(dir);
    expect(lock.path).toBe(lockPath);
    expect(readFileSync(lockPath, "utf8").trim()).toBe(String(process.pid));
    expect(codeOf(() => acquireDataDirLock(dir))).toBe("ERR_DATA_DIR_LOCKED");
    lock.release();
    lock.release(); // idempotent
    expect(existsSync(lockPath)).toBe(false);
    acquireDataDirLock(dir).release();
  });

  it("refuses a lock held by another running process", async () => {
    await writeFile(lockPath, `${process.ppid}\n`);
    expect(codeOf(() => acquireDataDirLock(dir))).toBe("ERR_DATA_DIR_LOCKED");
    expect(readFileSync(lockPath, "utf8")).toBe(`${process.ppid}\n`);
  });

  it("takes over the lock of a process that is gone", async () => {
    await writeFile(lockPath, `${deadPid()}\n`);
    const lock = acquireDataDirLock(dir);
    expect(readFileSync(lockPath, "utf8").trim()).toBe(String(process.pid));
    lock.release();
  });

  it("takes over a lock with garbage in it, or an old empty one", async () => {
    for (const content of ["garbage", "-5", "12abc", "99999999999"]) {
      await writeFile(lockPath, content);
      acquireDataDirLock(dir).release();
    }
    await writeFile(lockPath, "");
    const old = new Date(Date.now() - 60_000);
    await utimes(lockPath, old, old);
    acquireDataDirLock(dir).release();
  });

  it("treats a fresh empty lock as one being taken right now", async () => {
    await writeFile(lockPath, "");
    expect(codeOf(() => acquireDataDirLock(dir))).toBe("ERR_DATA_DIR_LOCKED");
  });

  it("takes over a lock with our own pid that we do not hold (pid reuse)", async () => {
    await writeFile(lockPath, `${process.pid}\n`);
    const lock = acquireDataDirLock(dir);
    expect(codeOf(() => acquireDataDirLock(dir))).toBe("ERR_DATA_DIR_LOCKED");
    lock.release();
  });

  it("does not remove a lock that another process took after ours was removed", async () => {
    const lock = acquireDataDirLock(dir);
    await rm(lockPath);
    await writeFile(lockPath, `${process.ppid}\n`);
    lock.release();
    expect(readFileSync(lockPath, "utf8")).toBe(`${process.ppid}\n`);
  });

  it("reports a directory where no lock file can be created as ERR_STORE_OPEN", () => {
    expect(codeOf(() => acquireDataDirLock(join(dir, "missing")))).toBe("ERR_STORE_OPEN");
  });
});
