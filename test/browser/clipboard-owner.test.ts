// The X11 clipboard backend against a real application owning the clipboard: Debian's Chromium,
// headful on a throwaway Xvfb, copies from a text area. The backend reads the copy, and while
// Chromium answers the TIMESTAMP target with the same time it does not fetch the item again (the
// real xclip runs behind a shim that logs each call); a new copy in Chromium is read at once.
// Chromium pastes what the backend wrote. Without Chromium, Xvfb or xclip: a failure under
// CI=true, a skip otherwise.

import { chmod, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Clipboard } from "../../src/clip/clipboard.js";
import { textItem } from "../../src/clip/clipboard.js";
import { toolsPresent } from "../../src/clip/testing/required-tools.js";
import { startXvfb, type TestXvfb, x11ToolsMissing } from "../../src/clip/testing/xvfb.js";
import { findOnPath } from "../../src/clip/which.js";
import { createXclipClipboard } from "../../src/clip/x11.js";
import { createTempDir } from "../helpers/temp-dir.js";
import { chromiumFlags, chromiumMissing, chromiumPath } from "./chromium.js";

const suite = "the X11 clipboard with Chromium owning it";
const missing = chromiumMissing ?? x11ToolsMissing();

describe.skipIf(!toolsPresent(suite, missing))(suite, () => {
  let xvfb: TestXvfb;
  let dir: { path: string; remove: () => Promise<void> };
  let browser: Browser;
  let page: Page;
  let clipboard: Clipboard;
  let log: string;

  beforeAll(async () => {
    xvfb = await startXvfb();
    dir = await createTempDir("syncline-clip-owner-");
    // A shim in front of the real xclip that logs each call's arguments, one line per call.
    log = join(dir.path, "xclip.log");
    const shim = join(dir.path, "xclip");
    const real = findOnPath("xclip", process.env);
    await writeFile(shim, `#!/bin/sh\necho "$*" >> '${log}'\nexec '${real}' "$@"\n`);
    await chmod(shim, 0o755);
    const env = { ...process.env, DISPLAY: xvfb.display };
    clipboard = createXclipClipboard({
      env: { ...env, PATH: `${dir.path}:${process.env.PATH}` },
    });
    browser = await chromium.launch({
      executablePath: chromiumPath,
      headless: false,
      args: chromiumFlags.filter((flag) => flag !== "--headless"),
      env,
    });
    page = await browser.newPage();
    await page.setContent("<textarea id=text></textarea>");
  });
  afterAll(async () => {
    await browser?.close();
    await xvfb?.stop();
    await dir?.remove();
  });

  async function copyInChromium(text: string): Promise<void> {
    await page.fill("#text", text);
    await page.focus("#text");
    await page.keyboard.press("Control+A");
    await page.keyboard.press("Control+C");
  }
  const readText = async () => Buffer.from((await clipboard.read()).item?.bytes ?? []).toString();
  const calls = async () => (await readFile(log, "utf8")).split("\n").filter((line) => line);

  it("reads Chromium's copy, then only its TIMESTAMP while it is unchanged", async () => {
    await copyInChromium("first copy from Chromium");
    await expect.poll(readText, { timeout: 5000 }).toBe("first copy from Chromium");
    const before = (await calls()).length;
    for (let read = 0; read < 3; read++) expect(await readText()).toBe("first copy from Chromium");
    expect((await calls()).slice(before)).toEqual([
      "-selection clipboard -t TARGETS -o",
      "-selection clipboard -t TIMESTAMP -o",
      "-selection clipboard -t TARGETS -o",
      "-selection clipboard -t TIMESTAMP -o",
      "-selection clipboard -t TARGETS -o",
      "-selection clipboard -t TIMESTAMP -o",
    ]);

    // The same application copies again: another time, read at once.
    await copyInChromium("second copy from Chromium");
    await expect.poll(readText, { timeout: 5000 }).toBe("second copy from Chromium");
  });

  it("Chromium pastes what the backend wrote", async () => {
    await clipboard.write(textItem(Buffer.from("written by syncline ✓")));
    await page.fill("#text", "");
    await page.focus("#text");
    await page.keyboard.press("Control+V");
    await expect
      .poll(() => page.inputValue("#text"), { timeout: 5000 })
      .toBe("written by syncline ✓");
    // Chromium copies again: the backend's own xclip gives way, and the copy is read.
    await copyInChromium("after the paste");
    await expect.poll(readText, { timeout: 5000 }).toBe("after the paste");
  });
});
