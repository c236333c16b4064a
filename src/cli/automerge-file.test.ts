import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as Automerge from "@automerge/automerge";
import { afterEach, describe, expect, it } from "vitest";
import { loadAutomergeFile, saveAutomergeFile } from "./automerge-file.js";

const dirs: string[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "syncline-am-file-"));
  dirs.push(dir);
  return dir;
}

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("automerge files", () => {
  it("a missing or empty file is an empty document; existed says which", async () => {
    const dir = tempDir();
    const missing = await loadAutomergeFile(join(dir, "none"), { mustBeWritable: true });
    expect(missing.existed).toBe(false);
    expect(Automerge.getHeads(missing.doc)).toEqual([]);
    writeFileSync(join(dir, "empty"), "");
    const empty = await loadAutomergeFile(join(dir, "empty"), { mustBeWritable: true });
    expect(empty.existed).toBe(true);
    expect(Automerge.getHeads(empty.doc)).toEqual([]);
  });

  it("saves atomically, keeps the file's mode, leaves no temp file, and loads back", async () => {
    const dir = tempDir();
    const path = join(dir, "doc.automerge");
    writeFileSync(path, "", { mode: 0o600 });
    const doc = Automerge.from({ items: ["x"] });
    await saveAutomergeFile(path, doc);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(["doc.automerge"]);
    const loaded = await loadAutomergeFile(path, { mustBeWritable: true });
    expect(loaded.doc).toEqual({ items: ["x"] });
  });

  it("a file that is not an Automerge document is ERR_LOCAL_FILE naming it", async () => {
    const path = join(tempDir(), "notes.txt");
    writeFileSync(path, "hello");
    await expect(loadAutomergeFile(path, { mustBeWritable: false })).rejects.toMatchObject({
      code: "ERR_LOCAL_FILE",
      message: expect.stringContaining(path),
    });
  });

  it("a directory, or a missing parent directory, is ERR_LOCAL_FILE naming the path", async () => {
    const dir = tempDir();
    await expect(loadAutomergeFile(dir, { mustBeWritable: false })).rejects.toMatchObject({
      code: "ERR_LOCAL_FILE",
    });
    const orphan = join(dir, "no-such-dir", "doc");
    await expect(loadAutomergeFile(orphan, { mustBeWritable: true })).rejects.toMatchObject({
      code: "ERR_LOCAL_FILE",
      message: expect.stringContaining(orphan),
    });
    await expect(saveAutomergeFile(orphan, Automerge.init())).rejects.toMatchObject({
      code: "ERR_LOCAL_FILE",
    });
  });
});
