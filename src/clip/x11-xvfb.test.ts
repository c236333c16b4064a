// The X11 backends against the real xclip and xsel, on a throwaway Xvfb: text and a PNG must come
// back byte for byte, including a PNG big enough for X11's incremental (INCR) transfer. Skipped,
// with a warning, where Xvfb, xclip or xsel is missing; under CI=true that fails instead.

import { execFile, spawn } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Clipboard, pngItem, textItem } from "./clipboard.js";
import { toolsPresent } from "./testing/required-tools.js";
import { randomPng } from "./testing/test-png.js";
import { startXvfb, type TestXvfb, x11ToolsMissing } from "./testing/xvfb.js";
import { createXclipClipboard } from "./x11.js";
import { createXselClipboard } from "./xsel.js";

const missing = x11ToolsMissing();

const suite = "the X11 clipboard on Xvfb";
describe.skipIf(!toolsPresent(suite, missing))(suite, () => {
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

  it("a 2 MiB image it wrote is pasted while it polls: its reads never collide with the paste", async () => {
    // xclip sends an item this large incrementally, to one requestor at a time, dropping other
    // requests meanwhile: were the backend to fetch its own item at each poll, a paste would
    // hang now and then.
    const env = { ...process.env, DISPLAY: xvfb.display };
    const png = randomPng(740, 740);
    expect(png.length).toBeGreaterThan(2 * 1024 * 1024);
    await xclip.write(pngItem(png));
    let polling = true;
    const polls = (async () => {
      let reads = 0;
      while (polling) {
        const read = await xclip.read();
        expect(read.item?.bytes.length).toBe(png.length);
        reads += 1;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      return reads;
    })();
    try {
      for (let paste = 0; paste < 10; paste++) {
        const started = Date.now();
        const { stdout } = await promisify(execFile)(
          "xclip",
          ["-selection", "clipboard", "-t", "image/png", "-o"],
          { env, encoding: "buffer", maxBuffer: 8 * 1024 * 1024, timeout: 5000 },
        );
        expect(Buffer.from(stdout).equals(png)).toBe(true);
        expect(Date.now() - started).toBeLessThan(3000);
      }
    } finally {
      polling = false;
    }
    expect(await polls).toBeGreaterThan(1);

    // Another application copies: our xclip exits, and the next read sees the new item.
    const other = spawn("xclip", ["-selection", "clipboard", "-t", "UTF8_STRING", "-i"], {
      env,
      stdio: ["pipe", "ignore", "ignore"],
    });
    other.stdin.end("copied elsewhere");
    await new Promise((resolve) => other.once("exit", resolve));
    await expect
      .poll(async () => Buffer.from((await xclip.read()).item?.bytes ?? []).toString(), {
        timeout: 5000,
      })
      .toBe("copied elsewhere");
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
