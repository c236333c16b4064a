import { afterEach, describe, expect, it } from "vitest";
import { type ClipEvent, ClipSession } from "./clip-session.js";
import type { Clipboard, ClipItem, ClipRead } from "./clipboard.js";

const text = (value: string): ClipItem => ({
  kind: "text",
  mime: "text/plain;charset=utf-8",
  bytes: new TextEncoder().encode(value),
});
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** An in-memory clipboard (the real ones are tested against their tools and under Xvfb). */
function memoryClipboard() {
  let current: ClipRead = { item: undefined, concealed: false };
  const written: ClipItem[] = [];
  const clipboard: Clipboard = {
    backend: "memory",
    read: async () => current,
    write: async (item) => {
      written.push(item);
      current = { item, concealed: false };
    },
  };
  return {
    clipboard,
    written,
    copy(item: ClipItem, concealed = false) {
      // As the real backends do: a concealed item's content is never read.
      current = concealed ? { item: undefined, concealed } : { item, concealed };
    },
  };
}

const sessions: ClipSession[] = [];
afterEach(() => {
  for (const session of sessions.splice(0)) session.stop();
});

function setup(options: { maxBytes?: number; debounceMs?: number } = {}) {
  const local = memoryClipboard();
  const published: ClipItem[] = [];
  const events: ClipEvent[] = [];
  const session = new ClipSession({
    clipboard: local.clipboard,
    publish: async (item) => {
      published.push(item);
    },
    maxBytes: options.maxBytes ?? 1024,
    debounceMs: options.debounceMs ?? 20,
    onEvent: (event) => events.push(event),
    onError: (error) => {
      throw error;
    },
  });
  sessions.push(session);
  return { local, published, events, session };
}

const decoded = (items: ClipItem[]) => items.map((item) => new TextDecoder().decode(item.bytes));

describe("ClipSession", () => {
  it("does not publish what the clipboard held at start, then publishes a new copy once it settled", async () => {
    const { local, published, events, session } = setup();
    local.copy(text("old"));
    await session.prime();
    await session.check();
    await sleep(40);
    expect(published).toEqual([]);
    local.copy(text("new"));
    await session.check();
    expect(published).toEqual([]); // still within the debounce
    await sleep(40);
    expect(decoded(published)).toEqual(["new"]);
    expect(events).toEqual([{ type: "sent", kind: "text", bytes: 3 }]);
  });

  it("checks made while a read is slow join one more look instead of queueing one each", async () => {
    const { local, session } = setup();
    await session.prime();
    let reads = 0;
    const read = local.clipboard.read;
    local.clipboard.read = async () => {
      reads += 1;
      await sleep(30);
      return read();
    };
    const checks = Array.from({ length: 10 }, () => session.check());
    await Promise.all(checks);
    // The first check's look, and one look for the nine made while it was waiting or running.
    expect(reads).toBeLessThanOrEqual(2);
    await session.check();
    expect(reads).toBeLessThanOrEqual(3);
  });

  it("sends only the last of rapid copies", async () => {
    const { local, published, session } = setup({ debounceMs: 50 });
    await session.prime();
    for (const value of ["a", "b", "c", "d"]) {
      local.copy(text(value));
      await session.check();
      await sleep(10);
    }
    await sleep(80);
    expect(decoded(published)).toEqual(["d"]);
  });

  it("never sends back an item it applied, and skips one the clipboard holds already", async () => {
    const { local, published, events, session } = setup();
    await session.prime();
    const item = text("from laptop");
    await session.apply({ kind: "text", mime: item.mime, device: "laptop" }, item.bytes);
    expect(decoded(local.written)).toEqual(["from laptop"]);
    await session.check();
    await sleep(40);
    expect(published).toEqual([]);
    await session.apply({ kind: "text", mime: item.mime, device: "laptop" }, item.bytes);
    expect(local.written).toHaveLength(1);
    expect(events).toEqual([{ type: "applied", kind: "text", bytes: 11, from: "laptop" }]);
  });

  it("an item applied during a local copy's debounce wins over it", async () => {
    const { local, published, session } = setup({ debounceMs: 40 });
    await session.prime();
    local.copy(text("local"));
    await session.check();
    const remote = text("remote");
    await session.apply({ kind: "text", mime: remote.mime, device: "" }, remote.bytes);
    await sleep(60);
    expect(published).toEqual([]);
    expect(decoded(local.written)).toEqual(["remote"]);
  });

  it("never publishes a concealed item, and says so once", async () => {
    const { local, published, events, session } = setup();
    await session.prime();
    local.copy(text("hunter2"), true);
    for (let i = 0; i < 3; i++) await session.check();
    await sleep(40);
    expect(published).toEqual([]);
    expect(events.map((event) => event.type === "skipped" && event.reason)).toEqual(["concealed"]);
    expect(await session.pushNow()).toBe(false);
  });

  it("skips items over the size limit both ways, with a notice, and does not retry them", async () => {
    const { local, published, events, session } = setup({ maxBytes: 4 });
    await session.prime();
    local.copy(text("too long"));
    await session.check();
    await sleep(40);
    await session.check();
    await sleep(40);
    expect(published).toEqual([]);
    const big = text("also too long");
    await session.apply({ kind: "text", mime: big.mime, device: "" }, big.bytes);
    expect(local.written).toEqual([]);
    expect(
      events.map((event) => event.type === "skipped" && `${event.reason} ${event.direction}`),
    ).toEqual(["too-large out", "too-large in"]);
  });

  it("push sends what the clipboard holds now at once", async () => {
    const { local, published, session } = setup({ debounceMs: 10_000 });
    local.copy(text("now"));
    expect(await session.pushNow()).toBe(true);
    expect(decoded(published)).toEqual(["now"]);
  });
});
