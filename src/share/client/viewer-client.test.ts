import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { WebSocket as NodeWebSocket } from "ws";
import { createViewerClient } from "./viewer-client.js";
import type {
  ViewerClientOptions,
  ViewerSocket,
  ViewerSocketConstructor,
  ViewerStatus,
} from "./viewer-client-api.js";
import { shareDataUrl, viewerSocketUrl } from "./viewer-urls.js";

/** A scripted WebSocket: tests open, send frames to and close each instance by hand. */
class FakeSocket implements ViewerSocket {
  static instances: FakeSocket[] = [];
  readyState = 0;
  onopen: ViewerSocket["onopen"] = null;
  onmessage: ViewerSocket["onmessage"] = null;
  onclose: ViewerSocket["onclose"] = null;
  onerror: ViewerSocket["onerror"] = null;
  closedWith: { code?: number; reason?: string } | undefined;

  constructor(readonly url: string) {
    FakeSocket.instances.push(this);
  }

  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }

  send(frame: unknown): void {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }

  /** A full state as the server sends it (version 2): a frame per key, then the state frame. */
  sendState(seq: number, state: Record<string, unknown> = {}, epoch?: string): void {
    for (const [key, content] of Object.entries(state)) this.send({ key, content });
    this.send(epoch === undefined ? { type: "state", seq } : { type: "state", seq, epoch });
  }

  serverClose(code: number, reason = ""): void {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }

  fail(message: string): void {
    this.readyState = 3;
    this.onerror?.({ message });
    this.onclose?.({ code: 1006, reason: "" });
  }

  close(code?: number, reason?: string): void {
    this.closedWith = { code, reason };
    this.readyState = 3;
  }
}

const last = () => FakeSocket.instances.at(-1) as FakeSocket;

function setup(overrides: Partial<ViewerClientOptions> = {}) {
  const client = createViewerClient({
    server: "http://127.0.0.1:3030",
    id: "abcdEFGH",
    WebSocket: FakeSocket,
    fetch: null,
    random: () => 1,
    backoff: { initialMs: 100, maxMs: 1000 },
    ...overrides,
  });
  const statuses: ViewerStatus[] = [];
  const updates: unknown[] = [];
  const snapshots: Array<{ state: Record<string, unknown>; seq: number }> = [];
  const errors: string[] = [];
  client.on("status", (status) => statuses.push(status));
  client.on("update", (frame) => updates.push(frame));
  client.on("snapshot", (state, seq) => snapshots.push({ state: Object.fromEntries(state), seq }));
  client.on("error", (error) => errors.push(error.message));
  return { client, statuses, updates, snapshots, errors };
}

beforeEach(() => {
  FakeSocket.instances = [];
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("viewer client URLs", () => {
  it("maps http(s) to ws(s), keeps a path prefix, adds since and epoch", () => {
    expect(viewerSocketUrl("http://h:1", "abcdEFGH")).toBe("ws://h:1/share_poll?id=abcdEFGH&v=2");
    expect(viewerSocketUrl("https://h/sync/", "abcdEFGH", 7)).toBe(
      "wss://h/sync/share_poll?id=abcdEFGH&since=7&v=2",
    );
    expect(viewerSocketUrl("ws://h:1", "abcdEFGH")).toBe("ws://h:1/share_poll?id=abcdEFGH&v=2");
    expect(viewerSocketUrl("http://h:1", "abcdEFGH", 7, "e_1-X")).toBe(
      "ws://h:1/share_poll?id=abcdEFGH&since=7&epoch=e_1-X&v=2",
    );
    // The epoch only qualifies a since: without one it is not sent.
    expect(viewerSocketUrl("http://h:1", "abcdEFGH", undefined, "e1")).toBe(
      "ws://h:1/share_poll?id=abcdEFGH&v=2",
    );
    expect(shareDataUrl("wss://h/x", "abcdEFGH")).toBe("https://h/x/api/share/abcdEFGH/data");
    expect(() => viewerSocketUrl("ftp://h", "abcdEFGH")).toThrow(/ftp:\/\/h/);
    expect(() => shareDataUrl("nope", "abcdEFGH")).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_SERVER_URL" }),
    );
  });

  it("accepts ws's WebSocket as the constructor (type-level)", () => {
    const socketClass: ViewerSocketConstructor = NodeWebSocket;
    expect(typeof socketClass).toBe("function");
  });
});

describe("viewer client state machine", () => {
  it("connects only on connect(), applies the snapshot then updates in order", () => {
    const { client, statuses, updates, snapshots } = setup();
    expect(FakeSocket.instances).toHaveLength(0);
    client.connect();
    expect(last().url).toBe("ws://127.0.0.1:3030/share_poll?id=abcdEFGH&v=2");
    expect(statuses).toEqual(["connecting"]);
    last().open();
    expect(client.status).toBe("connecting");
    last().sendState(4, { "session/info/s1": { title: "t" } });
    expect(statuses).toEqual(["connecting", "live"]);
    expect(snapshots).toEqual([{ state: { "session/info/s1": { title: "t" } }, seq: 4 }]);
    last().send({ key: "session/message/s1/m1", content: { id: "m1" }, seq: 5 });
    last().send({ key: "session/info/s1", content: { title: "u" }, seq: 6 });
    expect(updates).toEqual([
      { key: "session/message/s1/m1", content: { id: "m1" }, seq: 5 },
      { key: "session/info/s1", content: { title: "u" }, seq: 6 },
    ]);
    expect(client.seq).toBe(6);
    expect(Object.fromEntries(client.state)).toEqual({
      "session/info/s1": { title: "u" },
      "session/message/s1/m1": { id: "m1" },
    });
  });

  it("reconnects with backoff and since=<last seq>, skips frames it already has", () => {
    const { client, statuses, updates } = setup();
    client.connect();
    last().open();
    last().sendState(2, { a: 1 });
    last().serverClose(1001, "going away");
    expect(statuses).toEqual(["connecting", "live", "reconnecting"]);
    expect(FakeSocket.instances).toHaveLength(1);
    vi.advanceTimersByTime(99);
    expect(FakeSocket.instances).toHaveLength(1);
    vi.advanceTimersByTime(1); // random() = 1: the full ceiling of attempt 0, 100 ms
    expect(last().url).toBe("ws://127.0.0.1:3030/share_poll?id=abcdEFGH&since=2&v=2");
    last().open();
    expect(statuses.at(-1)).toBe("live");
    last().send({ key: "b", content: 1, seq: 2 }); // duplicate: skipped
    last().send({ key: "b", content: 2, seq: 3 });
    expect(updates).toEqual([{ key: "b", content: 2, seq: 3 }]);
    expect(client.state.get("b")).toBe(2);
  });

  it("remembers the share's epoch and sends it with since on reconnect", () => {
    const { client, snapshots } = setup();
    client.connect();
    expect(client.epoch).toBeUndefined();
    last().open();
    last().sendState(3, { a: 1 }, "ep0ch_A");
    expect(snapshots).toEqual([{ state: { a: 1 }, seq: 3 }]);
    expect(client.epoch).toBe("ep0ch_A");
    last().send({ key: "b", content: 1, seq: 4 });
    last().serverClose(1006);
    vi.advanceTimersByTime(100);
    expect(last().url).toBe("ws://127.0.0.1:3030/share_poll?id=abcdEFGH&since=4&epoch=ep0ch_A&v=2");
    // The server sends a full state of another epoch (the share was re-created): it replaces ours.
    last().open();
    last().sendState(1, { c: 1 }, "ep0ch_B");
    expect(client.epoch).toBe("ep0ch_B");
    expect(Object.fromEntries(client.state)).toEqual({ c: 1 });
    last().serverClose(1001);
    vi.advanceTimersByTime(100);
    expect(last().url).toBe("ws://127.0.0.1:3030/share_poll?id=abcdEFGH&since=1&epoch=ep0ch_B&v=2");
    // A server (or a share) without epochs: since alone, as before.
    last().open();
    last().sendState(2, { d: 1 });
    expect(client.epoch).toBeUndefined();
    last().serverClose(1001);
    vi.advanceTimersByTime(100);
    expect(last().url).toBe("ws://127.0.0.1:3030/share_poll?id=abcdEFGH&since=2&v=2");
  });

  it("a snapshot after a since-reconnect replaces the whole state", () => {
    const { client, snapshots } = setup();
    client.connect();
    last().open();
    last().sendState(2, { a: 1, gone: true });
    last().serverClose(1006);
    vi.advanceTimersByTime(100);
    last().open();
    last().sendState(9, { a: 2 });
    expect(snapshots.at(-1)).toEqual({ state: { a: 2 }, seq: 9 });
    expect(client.state.has("gone")).toBe(false);
    expect(client.seq).toBe(9);
  });

  it("backoff grows while connections fail and resets once live", () => {
    const { client } = setup();
    client.connect();
    last().fail("ECONNREFUSED");
    vi.advanceTimersByTime(100);
    expect(FakeSocket.instances).toHaveLength(2);
    last().fail("ECONNREFUSED");
    vi.advanceTimersByTime(199);
    expect(FakeSocket.instances).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(FakeSocket.instances).toHaveLength(3);
    expect(client.failures).toBe(2);
    last().open();
    last().sendState(0);
    expect(client.failures).toBe(0);
    last().serverClose(1006);
    vi.advanceTimersByTime(100);
    expect(FakeSocket.instances).toHaveLength(4);
  });

  it("4429 (too slow) reconnects with since", () => {
    const { client, statuses } = setup();
    client.connect();
    last().open();
    last().sendState(5);
    last().serverClose(4429, "too slow");
    expect(statuses.at(-1)).toBe("reconnecting");
    vi.advanceTimersByTime(100);
    expect(last().url).toContain("since=5");
  });

  it("a gap in seq reconnects to catch up instead of applying the frame", () => {
    const fetch = vi.fn(async (_url: string) => ({ status: 404 }));
    const { client, updates, errors } = setup({ fetch });
    client.connect();
    last().open();
    last().sendState(5);
    const first = last();
    first.send({ key: "k", content: 1, seq: 7 });
    expect(updates).toEqual([]);
    expect(first.closedWith?.code).toBe(4000);
    expect(errors.at(-1)).toMatch(/seq 7 after 5/);
    vi.advanceTimersByTime(100);
    expect(last().url).toContain("since=5");
    expect(client.status).toBe("reconnecting");
    expect(fetch).not.toHaveBeenCalled(); // the share is there: no 404 probe
  });

  it("applies a full state only once its state frame ends it", () => {
    const { client, snapshots, updates } = setup();
    client.connect();
    last().open();
    last().sendState(2, { a: 1, b: 1 });
    last().serverClose(1006);
    vi.advanceTimersByTime(100);
    last().open(); // since=2 was too old: a full state comes
    last().send({ key: "a", content: 2 });
    last().send({ key: "c", content: 2 });
    expect(Object.fromEntries(client.state)).toEqual({ a: 1, b: 1 });
    expect(snapshots).toHaveLength(1);
    expect(updates).toEqual([]);
    last().send({ type: "state", seq: 9, epoch: "e9" });
    expect(snapshots.at(-1)).toEqual({ state: { a: 2, c: 2 }, seq: 9 });
    expect([client.seq, client.epoch]).toEqual([9, "e9"]);
  });

  it("drops a full state cut short by a lost connection and catches up from what it has", () => {
    const { client, snapshots } = setup();
    client.connect();
    last().open();
    last().sendState(2, { a: 1 });
    last().serverClose(1006);
    vi.advanceTimersByTime(100);
    last().open();
    last().send({ key: "half", content: 1 });
    last().serverClose(1006);
    vi.advanceTimersByTime(100);
    expect(last().url).toContain("since=2");
    last().open();
    last().sendState(3, { b: 1 });
    expect(snapshots.at(-1)).toEqual({ state: { b: 1 }, seq: 3 });
  });

  it("an update inside a full state is a broken stream: it reconnects", () => {
    const { client, errors } = setup();
    client.connect();
    last().open();
    last().sendState(2, { a: 1 });
    const socket = last();
    socket.send({ key: "x", content: 1 });
    socket.send({ key: "y", content: 1, seq: 3 });
    expect(socket.closedWith?.code).toBe(4000);
    expect(errors.at(-1)).toMatch(/before the end of a full state/);
    expect(Object.fromEntries(client.state)).toEqual({ a: 1 });
    vi.advanceTimersByTime(100);
    expect(last().url).toContain("since=2");
  });

  it("4410 ends with status deleted and never reconnects", () => {
    const { client, statuses } = setup();
    client.connect();
    last().open();
    last().sendState(1);
    last().serverClose(4410, "deleted");
    expect(statuses).toEqual(["connecting", "live", "deleted"]);
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.instances).toHaveLength(1);
    client.close();
    expect(client.status).toBe("deleted");
  });

  it("a share/deleted frame ends with status deleted at once, before any close", () => {
    const { client, statuses, updates } = setup();
    client.connect();
    last().open();
    last().sendState(1, { "session/info/s1": { title: "t" } });
    const socket = last();
    socket.send({ key: "share/deleted", content: { id: "abcdEFGH", deletedAt: 1 } });
    expect(statuses).toEqual(["connecting", "live", "deleted"]);
    expect(updates).toEqual([]);
    expect(client.state.has("share/deleted")).toBe(false);
    expect(socket.closedWith?.code).toBe(1000);
    socket.serverClose(4410);
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.instances).toHaveLength(1);
  });

  it("skips control frames it does not know, counting their seq, and goes on", () => {
    const { client, updates, errors } = setup();
    client.connect();
    last().open();
    last().send({ key: "share/future", content: { x: 1 } }); // inside the full state
    last().sendState(1, { "session/info/s1": { title: "t" } });
    last().send({ key: "share/future", content: { x: 2 }, seq: 2 });
    last().send({ key: "session/info/s1", content: { title: "u" }, seq: 3 });
    expect(updates).toEqual([{ key: "session/info/s1", content: { title: "u" }, seq: 3 }]);
    expect([...client.state.keys()]).toEqual(["session/info/s1"]);
    expect([client.status, client.seq, errors]).toEqual(["live", 3, []]);
  });

  it("a refused upgrade with 410, or a 410 probe, ends with status deleted", async () => {
    const a = setup();
    a.client.connect();
    last().fail("Unexpected server response: 410");
    expect(a.client.status).toBe("deleted");
    const fetch = vi.fn(async (_url: string) => ({ status: 410 }));
    const b = setup({ fetch });
    b.client.connect(); // never saw the share: still "deleted", the server says so
    last().fail("");
    await vi.advanceTimersByTimeAsync(0);
    expect(b.client.status).toBe("deleted");
    await vi.advanceTimersByTimeAsync(10_000);
    expect(FakeSocket.instances).toHaveLength(2);
  });

  it("retryNow() tries again at once while waiting, and is a no-op otherwise", () => {
    const { client } = setup({ backoff: { initialMs: 10_000, maxMs: 10_000 } });
    client.retryNow(); // not started
    expect(FakeSocket.instances).toHaveLength(0);
    client.connect();
    client.retryNow(); // an attempt is open
    expect(FakeSocket.instances).toHaveLength(1);
    last().open();
    last().sendState(4);
    client.retryNow(); // live
    expect(FakeSocket.instances).toHaveLength(1);
    last().serverClose(1006);
    last().fail("ECONNREFUSED"); // ignored: the socket is gone
    expect(client.status).toBe("reconnecting");
    client.retryNow();
    expect(FakeSocket.instances).toHaveLength(2);
    expect(last().url).toContain("since=4");
    client.retryNow(); // this attempt is still open: no second socket
    expect(FakeSocket.instances).toHaveLength(2);
    last().fail("ECONNREFUSED");
    vi.advanceTimersByTime(9_999); // the backoff started over (random() = 1: its full ceiling)
    expect(FakeSocket.instances).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(FakeSocket.instances).toHaveLength(3);
  });

  it("a share seen before and not found on a reconnect ends with status deleted", async () => {
    const fetch = vi.fn(async (_url: string) => ({ status: 404 }));
    const a = setup({ fetch });
    a.client.connect();
    last().open();
    last().sendState(1);
    last().serverClose(1011, "the share is being deleted");
    vi.advanceTimersByTime(60_000);
    last().serverClose(4404);
    expect(a.statuses).toEqual(["connecting", "live", "reconnecting", "deleted"]);
    // The same through the 404 probe after a refused upgrade.
    const b = setup({ fetch });
    b.client.connect();
    last().open();
    last().sendState(1);
    last().serverClose(1011);
    vi.advanceTimersByTime(60_000);
    last().fail("");
    await vi.advanceTimersByTimeAsync(0);
    expect(b.client.status).toBe("deleted");
  });

  it("4404 and a refused upgrade with 404 end with status not-found", () => {
    const a = setup();
    a.client.connect();
    last().serverClose(4404);
    expect(a.client.status).toBe("not-found");
    const b = setup();
    b.client.connect();
    last().fail("Unexpected server response: 404");
    expect(b.client.status).toBe("not-found");
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.instances).toHaveLength(2);
  });

  it("a failed connection probes the data endpoint: 404 → not-found", async () => {
    const fetch = vi.fn(async (_url: string) => ({ status: 404 }));
    const { client } = setup({ fetch });
    client.connect();
    last().fail("");
    await vi.advanceTimersByTimeAsync(0);
    expect(fetch).toHaveBeenCalledWith("http://127.0.0.1:3030/api/share/abcdEFGH/data");
    expect(client.status).toBe("not-found");
    await vi.advanceTimersByTimeAsync(10_000);
    expect(FakeSocket.instances).toHaveLength(1);
  });

  it("a probe that finds the share keeps reconnecting", async () => {
    const fetch = vi.fn(async (_url: string) => ({ status: 200 }));
    const { client } = setup({ fetch });
    client.connect();
    last().fail("");
    await vi.advanceTimersByTimeAsync(100);
    expect(client.status).toBe("reconnecting");
    expect(FakeSocket.instances).toHaveLength(2);
  });

  it("close() stops for good and closes the socket", () => {
    const { client, statuses } = setup();
    client.connect();
    const socket = last();
    socket.open();
    client.close();
    expect(socket.closedWith?.code).toBe(1000);
    expect(statuses.at(-1)).toBe("closed");
    socket.serverClose(1006); // late close event of the dropped socket: ignored
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.instances).toHaveLength(1);
    client.connect();
    expect(FakeSocket.instances).toHaveLength(1);
  });

  it("close() while waiting to reconnect cancels the timer", () => {
    const { client } = setup();
    client.connect();
    last().fail("refused");
    client.close();
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.instances).toHaveLength(1);
    expect(client.status).toBe("closed");
  });

  it("a malformed frame is reported and ignored", () => {
    const { client, errors } = setup();
    client.connect();
    last().open();
    last().onmessage?.({ data: "{not json" });
    expect(errors.at(-1)).toMatch(/not JSON/);
    expect(client.status).toBe("connecting");
  });

  it("without a WebSocket constructor it says what to pass", () => {
    const saved = (globalThis as { WebSocket?: unknown }).WebSocket;
    (globalThis as { WebSocket?: unknown }).WebSocket = undefined;
    try {
      expect(() =>
        createViewerClient({ server: "http://h", id: "abcdEFGH", WebSocket: undefined }),
      ).toThrow(
        expect.objectContaining({
          code: "ERR_INVALID_OPTION",
          message: expect.stringMatching(/WebSocket/),
        }),
      );
    } finally {
      (globalThis as { WebSocket?: unknown }).WebSocket = saved;
    }
  });

  it("refuses a bad backoff or listener with ERR_INVALID_OPTION", () => {
    const invalid = expect.objectContaining({ code: "ERR_INVALID_OPTION" });
    expect(() => setup({ backoff: { maxMs: -1 } })).toThrow(invalid);
    const { client } = setup();
    expect(() => client.on("update", 42 as never)).toThrow(invalid);
  });
});
