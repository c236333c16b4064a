import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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

  it("adds, finds and removes records in a 0600 file (0700 directory)", () => {
    const records = store();
    expect(records.list()).toEqual([]);
    records.add(record("ses_00000001"));
    records.add(record("ses_00000002"));
    records.add(record("ses_00000001", "http://b:2"));
    expect(statSync(records.path).mode & 0o777).toBe(0o600);
    expect(statSync(join(records.path, "..")).mode & 0o777).toBe(0o700);
    expect(records.find("ses_00000001").map((r) => r.server)).toEqual(["http://a:1", "http://b:2"]);
    expect(records.find("ses_00000001", "http://b:2")).toHaveLength(1);
    // Same session and server: replaced, not duplicated.
    records.add({ ...record("ses_00000002"), secret: "new" });
    expect(records.find("ses_00000002")).toEqual([{ ...record("ses_00000002"), secret: "new" }]);
    expect(records.remove("ses_00000001", "http://a:1")).toBe(true);
    expect(records.remove("ses_00000001", "http://a:1")).toBe(false);
    expect(JSON.parse(readFileSync(records.path, "utf8"))).toMatchObject({ version: 1 });
    expect(records.list()).toHaveLength(2);
  });

  it("warns when others can read the file, and names the file when it is not JSON", () => {
    const records = store();
    records.add(record("ses_00000001"));
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
});
