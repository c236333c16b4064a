// The LMDB file pre-flight check: valid, missing and empty files pass; anything LMDB would
// refuse (and lmdb-js would crash on) is ERR_STORE_OPEN.

import { copyFileSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkLmdbFile } from "./check-lmdb-file.js";
import { openLmdbStore } from "./lmdb-store.js";

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
}

describe("checkLmdbFile", () => {
  let dir: string;
  let valid: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "syncline-lmdb-file-"));
    const store = await openLmdbStore({ path: join(dir, "db") });
    await store.write([{ type: "put", key: ["k"], value: new Uint8Array([1]) }]);
    await store.close();
    valid = join(dir, "db", "syncline.mdb");
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("accepts a real database, a missing file and an empty one", async () => {
    expect(codeOf(() => checkLmdbFile(valid))).toBeUndefined();
    expect(codeOf(() => checkLmdbFile(join(dir, "missing.mdb")))).toBeUndefined();
    await writeFile(join(dir, "empty.mdb"), "");
    expect(codeOf(() => checkLmdbFile(join(dir, "empty.mdb")))).toBeUndefined();
  });

  it("refuses files LMDB would refuse", async () => {
    const real = readFileSync(valid);
    const otherVersion = Buffer.from(real);
    otherVersion.writeUInt32LE(1, 0x1c);
    const cases: Record<string, Buffer> = {
      short: Buffer.from("hello"),
      zeros: Buffer.alloc(64 * 1024),
      text: Buffer.alloc(64 * 1024, "not lmdb "),
      truncated: real.subarray(0, 4000),
      otherVersion,
    };
    for (const [name, content] of Object.entries(cases)) {
      const file = join(dir, `${name}.mdb`);
      await writeFile(file, content);
      expect(
        codeOf(() => checkLmdbFile(file)),
        name,
      ).toBe("ERR_STORE_OPEN");
    }
    copyFileSync(valid, join(dir, "copy.mdb"));
    expect(codeOf(() => checkLmdbFile(join(dir, "copy.mdb")))).toBeUndefined();
  });

  it("refuses a directory in place of the file", async () => {
    await mkdir(join(dir, "dir.mdb"));
    expect(codeOf(() => checkLmdbFile(join(dir, "dir.mdb")))).toBe("ERR_STORE_OPEN");
  });
});
