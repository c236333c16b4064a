// The X11 backends against the real xclip and xsel, on a throwaway Xvfb: text and a PNG must come
// back byte for byte, including a PNG big enough for X11's incremental (INCR) transfer. Skipped,
// with a warning, where Xvfb, xclip or xsel is missing; under CI=true that fails instead.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Clipboard, pngItem, textItem } from "./clipboard.js";
import { randomPng } from "./testing/test-png.js";
import { startXvfb, type TestXvfb, x11ToolsMissing } from "./testing/xvfb.js";
import { createXclipClipboard } from "./x11.js";
import { createXselClipboard } from "./xsel.js";

const missing = x11ToolsMissing();
if (missing !== undefined && process.env.CI) {
  describe("the X11 clipboard on Xvfb", () => {
    it("has Xvfb, xclip and xsel (required under CI=true)", () => {
      throw new Error(missing);
    });
  });
} else if (missing !== undefined) console.warn(`X11 clipboard tests skipped: ${missing}`);

describe.skipIf(missing !== undefined)("the X11 clipboard on Xvfb", () => {
  let xvfb: TestXvfb;
  let xclip: Clipboard;
  let xsel: Clipboard;

  beforeAll(async () => {
    xvfb = await startXvfb();
    const options = { env: { ...process.env, DISPLAY: xvfb.display }, timeoutMs: 10_000 };
    xclip = createXclipClipboard(options);
    xsel = createXselClipboard(options);
  });
  afterAll(async () => {
    await xvfb?.stop();
  });

  it("reads nothing from a fresh server", async () => {
    expect(await xclip.read()).toEqual({ item: undefined, concealed: false });
    expect(await xsel.read()).toEqual({ item: undefined, concealed: false });
  });

  it("round-trips text through xclip, byte for byte", async () => {
    const text = textItem(Buffer.from("héllo wörld ✓ 🎉\n\ttab, trailing newline\n"));
    await xclip.write(text);
    expect(await xclip.read()).toEqual({ item: text, concealed: false });
    const next = textItem(Buffer.from("second"));
    await xclip.write(next);
    expect((await xclip.read()).item).toEqual(next);
  });

  it("round-trips a 640 KB PNG through xclip, byte for byte", async () => {
    const png = randomPng(400, 400);
    expect(png.length).toBeGreaterThan(600_000);
    await xclip.write(pngItem(png));
    const read = await xclip.read();
    expect(read.item?.kind).toBe("image");
    expect(Buffer.from(read.item?.bytes ?? []).equals(png)).toBe(true);
  });

  it("refuses a PNG larger than maxBytes", async () => {
    const png = randomPng(100, 100);
    await xclip.write(pngItem(png));
    const small = createXclipClipboard({
      env: { ...process.env, DISPLAY: xvfb.display },
      maxBytes: 1000,
    });
    await expect(small.read()).rejects.toMatchObject({
      code: "ERR_CLIPBOARD",
      message: expect.stringContaining("printed more than 1000 bytes"),
    });
  });

  it("round-trips text through xsel, and between xsel and xclip", async () => {
    const text = textItem(Buffer.from("från xsel ✓"));
    await xsel.write(text);
    expect((await xsel.read()).item).toEqual(text);
    expect((await xclip.read()).item).toEqual(text);
    const back = textItem(Buffer.from("från xclip ✓"));
    await xclip.write(back);
    expect((await xsel.read()).item).toEqual(back);
  });
});
