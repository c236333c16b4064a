// The XFIXES watch against a real X server (Xvfb) and the real xclip: a notice when the watch is
// in place, then one per copy (another application's or our own), none after stop(); a clear
// ERR_CLIPBOARD when there is no display, no server, or the server goes away. Skipped, with a
// warning, where Xvfb or xclip is missing; under CI=true that fails instead.

import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { textItem } from "./clipboard.js";
import { toolsPresent } from "./testing/required-tools.js";
import { startXvfb, type TestXvfb, x11ToolsMissing } from "./testing/xvfb.js";
import { createXclipClipboard } from "./x11.js";
import { watchX11Clipboard } from "./x11-watch.js";

const missing = x11ToolsMissing();

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Copies `text` on `display` as another application would (an xclip of its own). */
function copyElsewhere(display: string, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("xclip", ["-selection", "clipboard", "-i"], {
      env: { ...process.env, DISPLAY: display },
      stdio: ["pipe", "ignore", "ignore"],
    });
    child.once("error", reject);
    child.once("exit", () => resolve());
    child.stdin.end(text);
  });
}

const suite = "the X11 clipboard watch";
describe.skipIf(!toolsPresent(suite, missing))(suite, () => {
  let xvfb: TestXvfb;

  beforeAll(async () => {
    xvfb = await startXvfb();
  });
  afterAll(async () => {
    await xvfb?.stop();
  });

  it("tells once when in place, then of each copy, ours included, and nothing after stop()", async () => {
    let changes = 0;
    const errors: Error[] = [];
    const watch = watchX11Clipboard(
      xvfb.display,
      () => changes++,
      (error) => errors.push(error),
    );
    await expect.poll(() => changes).toBe(1);
    await copyElsewhere(xvfb.display, "another application's copy");
    await expect.poll(() => changes).toBe(2);
    const clipboard = createXclipClipboard({ env: { ...process.env, DISPLAY: xvfb.display } });
    await clipboard.write(textItem(Buffer.from("our own copy")));
    await expect.poll(() => changes).toBe(3);
    // Reading the clipboard is no change.
    expect((await clipboard.read()).item).toEqual(textItem(Buffer.from("our own copy")));
    await sleep(200);
    expect(changes).toBe(3);

    watch.stop();
    await copyElsewhere(xvfb.display, "after the stop");
    await sleep(300);
    expect(changes).toBe(3);
    expect(errors).toEqual([]);
  });

  it("fails with ERR_CLIPBOARD without DISPLAY, and without an X server there", async () => {
    const errors: Error[] = [];
    watchX11Clipboard(
      undefined,
      () => {},
      (error) => errors.push(error),
    );
    watchX11Clipboard(
      ":4321",
      () => {},
      (error) => errors.push(error),
    );
    await expect.poll(() => errors.length).toBe(2);
    expect(errors[0]).toMatchObject({
      code: "ERR_CLIPBOARD",
      message:
        "clipboard: cannot watch the X11 clipboard on display (DISPLAY unset): DISPLAY is not set",
    });
    expect(errors[1]).toMatchObject({
      code: "ERR_CLIPBOARD",
      message: expect.stringContaining(
        "clipboard: cannot watch the X11 clipboard on display :4321: cannot connect",
      ),
    });
  });

  it("tells once, with ERR_CLIPBOARD, when the X server goes away", async () => {
    const own = await startXvfb();
    let changes = 0;
    const errors: Error[] = [];
    watchX11Clipboard(
      own.display,
      () => changes++,
      (error) => errors.push(error),
    );
    await expect.poll(() => changes).toBe(1);
    await own.stop();
    await expect.poll(() => errors.length).toBe(1);
    expect(errors[0]).toMatchObject({
      code: "ERR_CLIPBOARD",
      message: expect.stringContaining(`on display ${own.display}`),
    });
    await sleep(200);
    expect(errors).toHaveLength(1);
  });
});
