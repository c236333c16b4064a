import { afterEach, describe, expect, it } from "vitest";
import type { Clipboard, ClipWatch } from "./clipboard.js";
import { usesNotices, watchOrPoll } from "./watch-or-poll.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A clipboard whose watch the test drives: `change()` and `fail()` call its callbacks. */
function clipboardWithWatch() {
  let onChange = () => {};
  let onError: (error: Error) => void = () => {};
  let watching = 0;
  let stopped = 0;
  const clipboard: Clipboard = {
    backend: "test",
    read: async () => ({ item: undefined, concealed: false }),
    write: async () => {},
    watch(change, error) {
      watching += 1;
      onChange = change;
      onError = error ?? (() => {});
      return {
        stop() {
          stopped += 1;
        },
      };
    },
  };
  return {
    clipboard,
    change: () => onChange(),
    fail: (error: Error) => onError(error),
    watching: () => watching,
    stopped: () => stopped,
  };
}

const watches: ClipWatch[] = [];
afterEach(() => {
  for (const watch of watches.splice(0)) watch.stop();
});

function start(clipboard: Clipboard, poll = false) {
  let checks = 0;
  const errors: unknown[] = [];
  let fallbacks = 0;
  const watch = watchOrPoll(
    clipboard,
    async () => {
      checks += 1;
    },
    {
      pollIntervalMs: 10,
      poll,
      onError: (error) => errors.push(error),
      onFallback: () => {
        fallbacks += 1;
      },
    },
  );
  watches.push(watch);
  return { watch, checks: () => checks, errors, fallbacks: () => fallbacks };
}

describe("watchOrPoll", () => {
  it("checks after each change notice, and does not poll meanwhile", async () => {
    const fake = clipboardWithWatch();
    const run = start(fake.clipboard);
    expect(usesNotices(fake.clipboard, false)).toBe(true);
    await sleep(60);
    expect(run.checks()).toBe(0);
    fake.change();
    fake.change();
    await sleep(0);
    expect(run.checks()).toBe(2);
    run.watch.stop();
    expect(fake.stopped()).toBe(1);
  });

  it("polls once the notices fail, saying so once", async () => {
    const fake = clipboardWithWatch();
    const run = start(fake.clipboard);
    const failure = new Error("no XFIXES extension");
    fake.fail(failure);
    await expect.poll(() => run.checks()).toBeGreaterThanOrEqual(3);
    expect(run.errors).toEqual([failure]);
    expect(run.fallbacks()).toBe(1);
    run.watch.stop();
    const after = run.checks();
    await sleep(50);
    expect(run.checks()).toBe(after);
  });

  it("polls where asked to (--poll) without starting the notices, and where there are none", async () => {
    const fake = clipboardWithWatch();
    const asked = start(fake.clipboard, true);
    expect(usesNotices(fake.clipboard, true)).toBe(false);
    const { watch: _none, ...plain } = fake.clipboard;
    const without = start(plain);
    expect(usesNotices(plain, false)).toBe(false);
    await expect.poll(() => asked.checks()).toBeGreaterThanOrEqual(3);
    await expect.poll(() => without.checks()).toBeGreaterThanOrEqual(3);
    expect(fake.watching()).toBe(0);
  });
});
