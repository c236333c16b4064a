import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { checkOutputFile, partFileFor } from "./output-file.js";

const dir = mkdtempSync(join(tmpdir(), "syncline-output-file-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("checkOutputFile", () => {
  it("accepts a new or an existing file in an existing folder", () => {
    writeFileSync(join(dir, "old.bin"), "x");
    expect(() => checkOutputFile(join(dir, "new.bin"), "recv")).not.toThrow();
    expect(() => checkOutputFile(join(dir, "old.bin"), "recv")).not.toThrow();
  });

  it("refuses a directory, or a path ending in a slash, with ERR_USAGE naming it", () => {
    mkdirSync(join(dir, "sub"));
    for (const path of [join(dir, "sub"), `${join(dir, "nothing-yet")}/`]) {
      expect(() => checkOutputFile(path, "recv")).toThrow(
        expect.objectContaining({
          code: "ERR_USAGE",
          message: `recv: -o ${path} is a directory; give a file path`,
        }),
      );
    }
  });

  it("refuses a missing folder, or a file as the folder, with ERR_LOCAL_FILE naming it", () => {
    const missing = join(dir, "missing", "x");
    expect(() => checkOutputFile(missing, "recv")).toThrow(
      expect.objectContaining({
        code: "ERR_LOCAL_FILE",
        message: `recv: -o ${missing}: folder ${dirname(missing)} does not exist`,
      }),
    );
    writeFileSync(join(dir, "plain"), "");
    const underFile = join(dir, "plain", "x");
    expect(() => checkOutputFile(underFile, "recv")).toThrow(
      expect.objectContaining({
        code: "ERR_LOCAL_FILE",
        message: expect.stringContaining("plain"),
      }),
    );
  });
});

describe("partFileFor", () => {
  it("is hidden, beside the target, and different on each call", () => {
    const target = join(dir, "out.bin");
    const first = partFileFor(target);
    expect(dirname(first)).toBe(dir);
    expect(first).toMatch(/\/\.out\.bin\.[0-9a-f]{12}\.part$/);
    expect(partFileFor(target)).not.toBe(first);
  });
});
