import {
  chmodSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { hostname, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type ShareRecord, ShareRecordStore, shareRecordsPath } from "./share-records.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function store(): ShareRecordStore {
  const dir = mkdtempSync(join(tmpdir(), "syncline-records-"));
  dirs.push(dir);
  return new ShareRecordStore(join(dir, "config", "syncline", "shares.json"));
}

const record = (sessionID: string, server = "http://a:1"): ShareRecord => ({
  sessionID,
  id: sessionID.slice(-8),
  secret: `secret-${sessionID}`,
  server,
  url: `${server}/s/${sessionID.slice(-8)}`,
  createdAt: "2026-11-30T00:00:00.000Z",
});

describe("share records", () => {
  it("lives in the XDG config dir, else ~/.config", () => {
    expect(shareRecordsPath({ XDG_CONFIG_HOME: "/x", HOME: "/h" })).toBe("/x/syncline/shares.json");
    expect(shareRecordsPath({ HOME: "/h" })).toBe("/h/.config/syncline/shares.json");
  });

  it("adds, finds and removes records in a 0600 file (0700 directory)", async () => {
    const records = store();
    expect(records.list()).toEqual([]);
    await records.add(record("ses_00000001"));
    await records.add(record("ses_00000002"));
    await records.add(record("ses_00000001", "http://b:2"));
    expect(statSync(records.path).mode & 0o777).toBe(0o600);
    expect(statSync(join(records.path, "..")).mode & 0o777).toBe(0o700);
    expect(records.find("ses_00000001").map((r) => r.server)).toEqual(["http://a:1", "http://b:2"]);
    expect(records.find("ses_00000001", "http://b:2")).toHaveLength(1);
    // Same session and server: replaced, not duplicated.
    await records.add({ ...record("ses_00000002"), secret: "new" });
    expect(records.find("ses_00000002")).toEqual([{ ...record("ses_00000002"), secret: "new" }]);
    expect(await records.remove("ses_00000001", "http://a:1")).toBe(true);
    expect(await records.remove("ses_00000001", "http://a:1")).toBe(false);
    expect(JSON.parse(readFileSync(records.path, "utf8"))).toMatchObject({ version: 1 });
    expect(records.list()).toHaveLength(2);
  });

  it("warns when others can read the file, and names the file when it is not JSON", async () => {
    const records = store();
    await records.add(record("ses_00000001"));
    expect(records.permissionWarning()).toBeUndefined();
    chmodSync(records.path, 0o644);
    expect(records.permissionWarning()).toMatch(/mode 644.*chmod 600/);
    writeFileSync(records.path, "{nope");
    expect(() => records.list()).toThrow(
      expect.objectContaining({
        code: "ERR_SHARE_RECORD",
        message: expect.stringContaining(records.path),
      }),
    );
  });

  it("removes a record only while it still has the given secret", async () => {
    const records = store();
    await records.add(record("ses_00000001"));
    expect(await records.remove("ses_00000001", "http://a:1", "an older secret")).toBe(false);
    expect(records.list()).toHaveLength(1);
    expect(await records.remove("ses_00000001", "http://a:1", "secret-ses_00000001")).toBe(true);
    expect(records.list()).toEqual([]);
  });

  it("changes the file under its lock, and leaves neither lock nor temporary file behind", async () => {
    const records = store();
    await Promise.all(Array.from({ length: 10 }, (_, i) => records.add(record(`ses_0000000${i}`))));
    expect(records.list()).toHaveLength(10);
    expect(readdirSync(dirname(records.path))).toEqual(["shares.json"]);
  });

  it("writes nothing when the lock stays held, and says who holds it", async () => {
    const records = new ShareRecordStore(store().path, { timeoutMs: 200 });
    await records.add(record("ses_00000001"));
    const before = readFileSync(records.path, "utf8");
    writeFileSync(
      records.lockPath,
      JSON.stringify({ pid: process.ppid, hostname: hostname(), createdAt: Date.now() }),
    );
    await expect(records.add(record("ses_00000002"))).rejects.toMatchObject({
      code: "ERR_FILE_LOCKED",
      message: expect.stringContaining(`${records.lockPath} is held by process ${process.ppid}`),
    });
    expect(readFileSync(records.path, "utf8")).toBe(before);
  });
});
