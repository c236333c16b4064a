import { appendFileSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openInput } from "./send.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempFile(content: string): string {
  const dir = mkdtempSync(join(tmpdir(), "syncline-send-"));
  dirs.push(dir);
  const path = join(dir, "payload.bin");
  writeFileSync(path, content);
  return path;
}

describe("send's file input", () => {
  it("reads ranges with read and readInto, and passes assertUnchanged when nothing changed", async () => {
    const input = await openInput(tempFile("0123456789"));
    try {
      expect(input.size).toBe(10);
      expect(input.name).toBe("payload.bin");
      expect(Buffer.from(await input.read(2, 3)).toString()).toBe("234");
      const into = new Uint8Array(4);
      expect(await input.readInto(6, into)).toBe(4);
      expect(Buffer.from(into).toString()).toBe("6789");
      await expect(input.assertUnchanged()).resolves.toBeUndefined();
    } finally {
      await input.close();
    }
  });

  it("assertUnchanged fails with ERR_STREAM_SOURCE once the file grew or was rewritten", async () => {
    const grown = tempFile("0123456789");
    const input = await openInput(grown);
    appendFileSync(grown, "more");
    await expect(input.assertUnchanged()).rejects.toMatchObject({
      code: "ERR_STREAM_SOURCE",
      message: expect.stringContaining("size 10 -> 14 bytes"),
    });
    await input.close();

    const rewritten = tempFile("0123456789");
    const same = await openInput(rewritten);
    writeFileSync(rewritten, "abcdefghij"); // same size, new content
    utimesSync(rewritten, new Date(), new Date(Date.now() + 5000));
    await expect(same.assertUnchanged()).rejects.toMatchObject({ code: "ERR_STREAM_SOURCE" });
    await same.close();
  });
});
