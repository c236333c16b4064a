import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { partFileFor, resolveOutputTarget } from "./output-file.js";

const checkOutputFile = (path: string, context: string) => resolveOutputTarget(path, context);

const dir = mkdtempSync(join(tmpdir(), "syncline-output-file-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("resolveOutputTarget", () => {
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

describe("resolveOutputTarget by file kind", () => {
  it("replaces a new file (mode unknown) or a regular file (its mode kept)", () => {
    writeFileSync(join(dir, "kept.bin"), "x", { mode: 0o640 });
    expect(resolveOutputTarget(join(dir, "brand-new.bin"), "recv")).toEqual({
      kind: "replace",
      path: join(dir, "brand-new.bin"),
      mode: undefined,
    });
    expect(resolveOutputTarget(join(dir, "kept.bin"), "recv")).toEqual({
      kind: "replace",
      path: join(dir, "kept.bin"),
      mode: 0o640,
    });
  });

  it("follows symbolic links, even to a file not there yet, and refuses a loop", () => {
    mkdirSync(join(dir, "links"));
    writeFileSync(join(dir, "links", "real.txt"), "x", { mode: 0o644 });
    symlinkSync("real.txt", join(dir, "links", "one"));
    symlinkSync("one", join(dir, "links", "two"));
    symlinkSync("later.txt", join(dir, "links", "dangling"));
    expect(resolveOutputTarget(join(dir, "links", "two"), "recv")).toEqual({
      kind: "replace",
      path: join(dir, "links", "real.txt"),
      mode: 0o644,
    });
    expect(resolveOutputTarget(join(dir, "links", "dangling"), "recv")).toMatchObject({
      kind: "replace",
      path: join(dir, "links", "later.txt"),
    });
    symlinkSync("loop-b", join(dir, "links", "loop-a"));
    symlinkSync("loop-a", join(dir, "links", "loop-b"));
    expect(() => resolveOutputTarget(join(dir, "links", "loop-a"), "recv")).toThrow(
      expect.objectContaining({ code: "ERR_LOCAL_FILE", message: expect.stringMatching(/links/) }),
    );
  });

  it("writes into a FIFO directly, and refuses a socket", async () => {
    const fifo = join(dir, "fifo");
    execFileSync("mkfifo", [fifo]);
    expect(resolveOutputTarget(fifo, "recv")).toEqual({ kind: "direct", path: fifo });
    symlinkSync("fifo", join(dir, "to-fifo")); // a link to a special file: open() follows it
    expect(resolveOutputTarget(join(dir, "to-fifo"), "recv")).toEqual({
      kind: "direct",
      path: join(dir, "to-fifo"),
    });
    const socketPath = join(dir, "s.sock");
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    try {
      expect(() => resolveOutputTarget(socketPath, "recv")).toThrow(
        expect.objectContaining({
          code: "ERR_LOCAL_FILE",
          message: expect.stringMatching(/socket/),
        }),
      );
    } finally {
      server.close();
    }
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
