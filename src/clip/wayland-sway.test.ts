// The Wayland backend against the real wl-clipboard on a throwaway headless sway: text and a PNG
// come back byte for byte, another application's copy is read, a password manager's marked copy
// is reported concealed and not read, and the watch tells of each change and of its compositor
// going away. Skipped, with a warning, where sway or wl-clipboard is missing; under CI=true that
// fails instead.

import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Clipboard, pngItem, textItem } from "./clipboard.js";
import { toolsPresent } from "./testing/required-tools.js";
import { startSway, type TestSway, waylandToolsMissing } from "./testing/sway.js";
import { randomPng } from "./testing/test-png.js";
import { createWaylandClipboard } from "./wayland.js";

const missing = waylandToolsMissing();

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Copies `bytes` as `type` the way another application would: a wl-copy of its own. */
function copyElsewhere(sway: TestSway, type: string, bytes: string | Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("wl-copy", ["--type", type], {
      env: { ...process.env, ...sway.env },
      stdio: ["pipe", "ignore", "ignore"],
    });
    child.once("error", reject);
    // wl-copy exits once the selection is taken, leaving a process that serves it.
    child.once("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`wl-copy exited ${code}`)),
    );
    child.stdin.end(bytes);
  });
}

const suite = "the Wayland clipboard on sway";
describe.skipIf(!toolsPresent(suite, missing))(suite, () => {
  let sway: TestSway;
  let clipboard: Clipboard;

  beforeAll(async () => {
    sway = await startSway();
    clipboard = createWaylandClipboard({ env: { ...process.env, ...sway.env }, timeoutMs: 10_000 });
  });
  afterAll(async () => {
    await sway?.stop();
  });

  it("reads nothing from a fresh compositor", async () => {
    expect(await clipboard.read()).toEqual({ item: undefined, concealed: false });
  });

  it("round-trips text byte for byte, its trailing newline included", async () => {
    const text = textItem(Buffer.from("héllo wörld ✓ 🎉\n\ttab, trailing newline\n"));
    await clipboard.write(text);
    expect(await clipboard.read()).toEqual({ item: text, concealed: false });
    const next = textItem(Buffer.from("second"));
    await clipboard.write(next);
    expect((await clipboard.read()).item).toEqual(next);
  });

  it("round-trips a 2 MiB PNG byte for byte", async () => {
    const png = randomPng(740, 740);
    expect(png.length).toBeGreaterThan(2 * 1024 * 1024);
    await clipboard.write(pngItem(png));
    const read = await clipboard.read();
    expect(read.item?.kind).toBe("image");
    expect(Buffer.from(read.item?.bytes ?? []).equals(png)).toBe(true);
  });

  it("reads another application's plain text, and reports a marked password as concealed", async () => {
    await copyElsewhere(sway, "text/plain", "copied elsewhere");
    expect((await clipboard.read()).item).toEqual(textItem(Buffer.from("copied elsewhere")));
    await copyElsewhere(sway, "x-kde-passwordManagerHint", "secret");
    expect(await clipboard.read()).toEqual({ item: undefined, concealed: true });
  });

  it("tells once when in place (of the selection there is), then of each copy, ours included, and nothing after stop()", async () => {
    let changes = 0;
    const errors: Error[] = [];
    const watch = clipboard.watch?.(
      () => changes++,
      (error) => errors.push(error),
    );
    expect(watch).toBeDefined();
    await expect.poll(() => changes).toBe(1);
    await copyElsewhere(sway, "text/plain", "another application's copy");
    await expect.poll(() => changes).toBe(2);
    await clipboard.write(textItem(Buffer.from("our own copy")));
    await expect.poll(() => changes).toBe(3);
    // Reading the clipboard is no change.
    expect((await clipboard.read()).item).toEqual(textItem(Buffer.from("our own copy")));
    await sleep(200);
    expect(changes).toBe(3);

    watch?.stop();
    await copyElsewhere(sway, "text/plain", "after the stop");
    await sleep(300);
    expect(changes).toBe(3);
    expect(errors).toEqual([]);
  });

  it("tells once, with ERR_CLIPBOARD, when the compositor goes away", async () => {
    const own = await startSway();
    const ownClipboard = createWaylandClipboard({ env: { ...process.env, ...own.env } });
    // wl-paste --watch tells of the selection there is when it starts: none on an empty one.
    await copyElsewhere(own, "text/plain", "so that the watch has a selection to tell of");
    let changes = 0;
    const errors: Error[] = [];
    ownClipboard.watch?.(
      () => changes++,
      (error) => errors.push(error),
    );
    await expect.poll(() => changes).toBe(1);
    await own.stop();
    await expect.poll(() => errors.length).toBe(1);
    expect(errors[0]).toMatchObject({
      code: "ERR_CLIPBOARD",
      message: expect.stringContaining("stopped watching the clipboard"),
    });
    await sleep(200);
    expect(errors).toHaveLength(1);
  });
});
