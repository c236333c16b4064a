import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { withFileLock } from "./file-lock.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function lockPath(): string {
  const dir = mkdtempSync(join(tmpdir(), "syncline-lock-"));
  dirs.push(dir);
  return join(dir, "file.lock");
}

const lockText = (fields: Record<string, unknown>) =>
  JSON.stringify({ hostname: hostname(), createdAt: Date.now(), token: "theirs", ...fields });

/** A pid that no process has any more. */
function gonePid(): number {
  const { pid } = spawnSync(process.execPath, ["-e", ""]);
  return pid as number;
}

describe("withFileLock", () => {
  it("holds a lock file with our pid while fn runs, and removes it after, also when fn throws", async () => {
    const path = lockPath();
    const seen = await withFileLock(path, () => JSON.parse(readFileSync(path, "utf8")));
    expect(seen).toMatchObject({ pid: process.pid, hostname: hostname() });
    expect(Date.now() - seen.createdAt).toBeLessThan(5_000);
    expect(existsSync(path)).toBe(false);
    await expect(
      withFileLock(path, () => {
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(existsSync(path)).toBe(false);
  });

  it("serializes holders: read-modify-writes that yield inside never interleave", async () => {
    const path = lockPath();
    let value = 0;
    let inside = 0;
    let overlap = false;
    await Promise.all(
      Array.from({ length: 8 }, () =>
        withFileLock(path, async () => {
          inside += 1;
          overlap ||= inside > 1;
          const read = value;
          await sleep(5);
          value = read + 1;
          inside -= 1;
        }),
      ),
    );
    expect(overlap).toBe(false);
    expect(value).toBe(8);
  });

  it("breaks a lock whose process is gone, one that is too old, and unreadable old garbage", async () => {
    const path = lockPath();
    writeFileSync(path, lockText({ pid: gonePid() }));
    expect(await withFileLock(path, () => "gone", { timeoutMs: 200 })).toBe("gone");

    // A live process (our parent), but the lock is older than staleMs.
    writeFileSync(path, lockText({ pid: process.ppid, createdAt: Date.now() - 60_000 }));
    expect(await withFileLock(path, () => "old", { timeoutMs: 200, staleMs: 30_000 })).toBe("old");

    // Our own pid in a lock we never took: the pid was reused since a crash.
    writeFileSync(path, lockText({ pid: process.pid }));
    expect(await withFileLock(path, () => "reused", { timeoutMs: 200 })).toBe("reused");

    writeFileSync(path, "{not json");
    const old = new Date(Date.now() - 10_000);
    utimesSync(path, old, old);
    expect(await withFileLock(path, () => "garbage", { timeoutMs: 200 })).toBe("garbage");
    expect(existsSync(path)).toBe(false);
  });

  it("times out on a held lock with ERR_FILE_LOCKED naming the file, the holder and its age", async () => {
    const path = lockPath();
    const held = lockText({ pid: process.ppid, createdAt: Date.now() - 3_000 });
    writeFileSync(path, held);
    const started = Date.now();
    const error = await withFileLock(path, () => "never", {
      context: "records: /x/shares.json",
      timeoutMs: 300,
    }).catch((e: unknown) => e);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(error).toMatchObject({ code: "ERR_FILE_LOCKED" });
    const { message } = error as Error;
    expect(message).toMatch(/^records: \/x\/shares\.json: lock file /);
    expect(message).toContain(path);
    expect(message).toContain(`held by process ${process.ppid}, held for 3`);
    expect(message).toContain("gave up after 0.3 s");
    expect(readFileSync(path, "utf8")).toBe(held); // left alone
  });

  it("on another host, trusts only the age: a young lock is waited for, an old one broken", async () => {
    const path = lockPath();
    writeFileSync(path, lockText({ pid: gonePid(), hostname: "elsewhere.example" }));
    await expect(withFileLock(path, () => 1, { timeoutMs: 100 })).rejects.toMatchObject({
      code: "ERR_FILE_LOCKED",
      message: expect.stringContaining("on host elsewhere.example"),
    });
    writeFileSync(
      path,
      lockText({ pid: 1, hostname: "elsewhere.example", createdAt: Date.now() - 60_000 }),
    );
    expect(await withFileLock(path, () => 2, { timeoutMs: 100 })).toBe(2);
  });

  it("waits for a holder that releases, then takes the lock", async () => {
    const path = lockPath();
    writeFileSync(path, lockText({ pid: process.ppid }));
    setTimeout(() => rmSync(path), 150);
    expect(await withFileLock(path, () => "mine", { timeoutMs: 5_000 })).toBe("mine");
  });

  it("tells a holder its lock was broken, and then leaves the new holder's lock alone", async () => {
    const path = lockPath();
    const theirs = lockText({ pid: process.ppid });
    await expect(
      withFileLock(path, (lock) => {
        lock.assertHeld();
        writeFileSync(path, theirs); // another process broke ours as stale and took it
        lock.assertHeld();
      }),
    ).rejects.toMatchObject({
      code: "ERR_FILE_LOCKED",
      message: expect.stringContaining(`process ${process.ppid} holds it now`),
    });
    expect(readFileSync(path, "utf8")).toBe(theirs);
  });
});
