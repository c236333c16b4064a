import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { breakStaleLock, describeBreakError } from "./stale-lock.js";

const dir = mkdtempSync(join(tmpdir(), "syncline-stale-lock-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("breakStaleLock", () => {
  it("removes the stale lock it saw", () => {
    const lock = join(dir, "a.lock");
    writeFileSync(lock, "123\n");
    breakStaleLock(lock, "123\n");
    expect(existsSync(lock)).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("puts back a lock someone took meanwhile", () => {
    const lock = join(dir, "b.lock");
    writeFileSync(lock, "456\n");
    breakStaleLock(lock, "123\n");
    expect(existsSync(lock)).toBe(true);
    rmSync(lock);
  });

  it("returns quietly when someone else moved the lock first (ENOENT)", () => {
    expect(() => breakStaleLock(join(dir, "gone.lock"), "1\n")).not.toThrow();
  });

  it("throws any other failure, which the next round would only meet again", () => {
    // A "folder" that is a file: the rename fails with ENOTDIR, as a read-only one with EACCES.
    writeFileSync(join(dir, "file"), "");
    expect(() => breakStaleLock(join(dir, "file", "x.lock"), "1\n")).toThrow(
      expect.objectContaining({ code: "ENOTDIR" }),
    );
  });
});

describe("describeBreakError", () => {
  const denied = (code: string) => Object.assign(new Error(`${code}: nope`), { code });

  it("says permission denied and names the lock's folder", () => {
    expect(describeBreakError(denied("EACCES"), "/etc/app/x.lock")).toBe(
      "permission denied in folder /etc/app (EACCES)",
    );
    expect(describeBreakError(denied("EPERM"), "/etc/app/x.lock")).toBe(
      "permission denied in folder /etc/app (EPERM)",
    );
    expect(describeBreakError(denied("EROFS"), "/mnt/ro/x.lock")).toBe(
      "permission denied in folder /mnt/ro (read-only file system)",
    );
    expect(describeBreakError(denied("EIO"), "/x.lock")).toBe("EIO: nope");
  });
});
