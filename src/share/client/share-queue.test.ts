import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ShareItem } from "../../protocol/share-items.js";
import { createShareHttp, type FetchLike } from "./share-http.js";
import { createShareQueue } from "./share-queue.js";
import type { ShareQueueEvents } from "./share-queue-events.js";
import type { ShareCredentials } from "./share-queue-options.js";

const sessionA = "ses_aaaaAAAA";
const sessionB = "ses_bbbbBBBB";

interface Recorded {
  readonly url: string;
  readonly method: string;
  readonly body: { secret: string; data: ShareItem[] };
}

type Reply = { status: number; body?: unknown } | Error;

/** A fetch that records each request and answers from a script (default 200). */
function scriptedFetch(replies: Reply[] = []) {
  const requests: Recorded[] = [];
  const fetch: FetchLike = async (url, init) => {
    requests.push({ url, method: init.method, body: JSON.parse(init.body ?? "null") });
    const reply = replies.shift() ?? { status: 200, body: { seq: requests.length, accepted: 1 } };
    if (reply instanceof Error) throw reply;
    const text = reply.body === undefined ? "" : JSON.stringify(reply.body);
    return { status: reply.status, text: async () => text };
  };
  return { fetch, requests, replies };
}

function part(id: string, text: string, sessionID = sessionA): ShareItem {
  return { type: "part", data: { id, messageID: "msg_1", sessionID, type: "text", text } };
}

function setup(replies: Reply[] = []) {
  const scripted = scriptedFetch(replies);
  const records = new Map<string, ShareCredentials>([
    [sessionA, { id: "aaaaAAAA", secret: "secret-a" }],
    [sessionB, { id: "bbbbBBBB", secret: "secret-b" }],
  ]);
  const removed: string[] = [];
  const queue = createShareQueue({
    http: createShareHttp({ server: "http://share.test", fetch: scripted.fetch }),
    records: {
      get: (sessionID) => records.get(sessionID),
      remove: (sessionID) => {
        removed.push(sessionID);
        records.delete(sessionID);
      },
    },
    random: () => 1,
    backoff: { initialMs: 1000, maxMs: 8000 },
  });
  const events: Array<{ name: keyof ShareQueueEvents; event: unknown }> = [];
  for (const name of [
    "synced",
    "retry",
    "unauthorized",
    "not-found",
    "rejected",
    "no-record",
  ] as const) {
    queue.on(name, (event: unknown) => events.push({ name, event }));
  }
  const named = (name: keyof ShareQueueEvents) =>
    events.filter((e) => e.name === name).map((e) => e.event as Record<string, unknown>);
  return { queue, ...scripted, records, removed, events, named };
}

const texts = (request: Recorded | undefined) =>
  request?.body.data.map((item) => (item.data as { text?: string }).text);

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("share queue", () => {
  it("100 updates to one part within the window → 1 request with the last value", async () => {
    const { queue, requests, named } = setup();
    for (let i = 0; i < 100; i++) {
      queue.sync(sessionA, [part("prt_1", `v${i}`)]);
      await vi.advanceTimersByTimeAsync(9); // 100 × 9 ms < 1 s window
    }
    expect(requests).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(100);
    expect(requests).toHaveLength(1);
    expect(requests[0]?.url).toBe("http://share.test/api/share/aaaaAAAA/sync");
    expect(requests[0]?.body.secret).toBe("secret-a");
    expect(texts(requests[0])).toEqual(["v99"]);
    expect(named("synced")).toEqual([
      {
        sessionID: sessionA,
        id: "aaaaAAAA",
        seq: 1,
        keys: ["session/part/ses_aaaaAAAA/msg_1/prt_1"],
        ignored: [],
        ignoredCount: 0,
      },
    ]);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(requests).toHaveLength(1);
  });

  it("items the server ignored are named by key", async () => {
    const { queue, named } = setup([
      { status: 200, body: { seq: 3, accepted: 1, ignored: [{ index: 1, reason: "off schema" }] } },
    ]);
    queue.sync(sessionA, [part("p1", "a"), part("p2", "b")]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(named("synced")[0]?.ignored).toEqual([
      { index: 1, key: "session/part/ses_aaaaAAAA/msg_1/p2", reason: "off schema" },
    ]);
    expect(named("synced")[0]?.ignoredCount).toBe(1);
  });

  it("reports how many items the server ignored in all, beyond the 100 it lists", async () => {
    const listed = Array.from({ length: 100 }, (_, index) => ({ index, reason: "off schema" }));
    const { queue, named } = setup([
      { status: 200, body: { seq: 1, accepted: 1, ignored: listed, ignoredCount: 150 } },
    ]);
    queue.sync(sessionA, [part("p1", "a")]);
    await vi.advanceTimersByTimeAsync(1000);
    const [synced] = named("synced");
    expect(synced?.ignored).toHaveLength(100);
    expect(synced?.ignoredCount).toBe(150);
  });

  it("the window starts at the first item: one POST per window, distinct keys kept", async () => {
    const { queue, requests } = setup();
    queue.sync(sessionA, [part("p1", "a")]);
    await vi.advanceTimersByTimeAsync(999);
    queue.sync(sessionA, [part("p2", "b"), part("p1", "c")]);
    expect(requests).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(requests).toHaveLength(1);
    expect(texts(requests[0])).toEqual(["c", "b"]);
  });

  it("items for two sessions → two requests, each with its own secret", async () => {
    const { queue, requests } = setup();
    queue.sync(sessionA, [part("p1", "a")]);
    queue.sync(sessionB, [part("p1", "b", sessionB)]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(requests.map((r) => [r.url, r.body.secret, texts(r)])).toEqual([
      ["http://share.test/api/share/aaaaAAAA/sync", "secret-a", ["a"]],
      ["http://share.test/api/share/bbbbBBBB/sync", "secret-b", ["b"]],
    ]);
  });

  it("a failed batch (network error, then 503) is retried with backoff; a newer value wins", async () => {
    const { queue, requests, named } = setup([
      new TypeError("fetch failed: ECONNREFUSED"),
      { status: 503, body: { error: { code: "ERR_SHARE_STORAGE", message: "store closed" } } },
    ]);
    queue.sync(sessionA, [part("p1", "old"), part("p2", "kept")]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(requests).toHaveLength(1);
    expect(named("retry")[0]).toMatchObject({
      attempt: 1,
      delayMs: 1000,
      status: undefined,
      error: { code: "ERR_CONNECT" },
    });
    expect(String(named("retry")[0]?.message)).toMatch(/ECONNREFUSED/);
    queue.sync(sessionA, [part("p1", "new")]); // written while the batch waits
    await vi.advanceTimersByTimeAsync(999);
    expect(requests).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(requests).toHaveLength(2);
    expect(texts(requests[1])).toEqual(["new", "kept"]);
    expect(named("retry")[1]).toMatchObject({
      attempt: 2,
      delayMs: 2000,
      status: 503,
      error: { code: "ERR_SHARE_STORAGE", status: 503 },
    });
    expect(String(named("retry")[1]?.message)).toMatch(/store closed/);
    await vi.advanceTimersByTimeAsync(1999);
    expect(requests).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(requests).toHaveLength(3);
    expect(texts(requests[2])).toEqual(["new", "kept"]);
    expect(named("synced")).toHaveLength(1);
    expect(queue.pendingCount()).toBe(0);
  });

  it("backoff resets after a success", async () => {
    const { queue, requests, named } = setup([{ status: 500 }]);
    queue.sync(sessionA, [part("p1", "a")]);
    await vi.advanceTimersByTimeAsync(1000 + 1000);
    expect(requests).toHaveLength(2);
    queue.sync(sessionA, [part("p1", "b")]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(requests).toHaveLength(3);
    expect(named("retry")).toHaveLength(1);
  });

  it("a value written while a request is in flight goes in the next request, never before", async () => {
    let release: (() => void) | undefined;
    const requests: string[][] = [];
    const fetch: FetchLike = async (_url, init) => {
      const body = JSON.parse(init.body ?? "{}") as { data: ShareItem[] };
      requests.push(body.data.map((item) => (item.data as { text: string }).text));
      if (requests.length === 1) await new Promise<void>((r) => (release = r));
      return { status: 200, text: async () => '{"seq":1}' };
    };
    const queue = createShareQueue({
      http: createShareHttp({ server: "http://share.test", fetch }),
      records: { get: () => ({ id: "aaaaAAAA", secret: "s" }), remove: () => {} },
    });
    queue.sync(sessionA, [part("p1", "first")]);
    await vi.advanceTimersByTimeAsync(1000);
    queue.sync(sessionA, [part("p1", "second")]);
    await vi.advanceTimersByTimeAsync(5000); // its window closed while the first is in flight
    expect(requests).toEqual([["first"]]);
    release?.();
    await vi.advanceTimersByTimeAsync(0);
    expect(requests).toEqual([["first"], ["second"]]);
  });

  it("401 clears the local record, reports it and drops the session's items", async () => {
    const { queue, requests, removed, named } = setup([
      { status: 401, body: { error: { code: "ERR_SHARE_SECRET", message: "bad secret" } } },
    ]);
    queue.sync(sessionA, [part("p1", "a")]);
    queue.sync(sessionB, [part("p1", "b", sessionB)]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(removed).toEqual([sessionA]);
    expect(named("unauthorized")).toEqual([
      expect.objectContaining({
        sessionID: sessionA,
        id: "aaaaAAAA",
        message: "bad secret (ERR_SHARE_SECRET)",
        error: expect.objectContaining({ code: "ERR_SHARE_SECRET", status: 401 }),
        dropped: [expect.objectContaining({ key: "session/part/ses_aaaaAAAA/msg_1/p1" })],
      }),
    ]);
    expect(queue.sync(sessionA, [part("p1", "later")])).toMatchObject({ stopped: true });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(requests).toHaveLength(2); // A once, B once; nothing more for A
    expect(named("synced").map((e) => e.sessionID)).toEqual([sessionB]);
  });

  it("404 stops syncing that session and reports it", async () => {
    const { queue, requests, removed, named } = setup([{ status: 404 }]);
    queue.sync(sessionA, [part("p1", "a")]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(named("not-found")).toEqual([
      expect.objectContaining({
        sessionID: sessionA,
        error: expect.objectContaining({ code: "ERR_SHARE_NOT_FOUND" }),
      }),
    ]);
    expect(removed).toEqual([]);
    queue.sync(sessionA, [part("p1", "b")]);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(requests).toHaveLength(1);
    expect(queue.pendingCount(sessionA)).toBe(0);
  });

  it("413 naming items by index drops only those and sends the rest at once", async () => {
    const { queue, requests, named } = setup([
      {
        status: 413,
        body: {
          error: { code: "ERR_SHARE_TOO_LARGE", message: "items too large" },
          items: [{ index: 1, key: "session/part/ses_aaaaAAAA/msg_1/big", reason: "2 MiB" }],
        },
      },
    ]);
    queue.sync(sessionA, [part("p1", "a"), part("big", "x".repeat(100)), part("p3", "c")]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(requests).toHaveLength(2);
    expect(texts(requests[1])).toEqual(["a", "c"]);
    expect(named("rejected")).toEqual([
      expect.objectContaining({
        status: 413,
        items: [
          expect.objectContaining({ key: "session/part/ses_aaaaAAAA/msg_1/big", reason: "2 MiB" }),
        ],
      }),
    ]);
    expect(named("synced")).toHaveLength(1);
  });

  it("400 naming items by key drops only those", async () => {
    const { queue, requests, named } = setup([
      {
        status: 400,
        body: { error: { message: "bad" }, items: ["session/part/ses_aaaaAAAA/msg_1/p2"] },
      },
    ]);
    queue.sync(sessionA, [part("p1", "a"), part("p2", "b")]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(texts(requests[1])).toEqual(["a"]);
    expect(named("rejected")[0]).toMatchObject({ status: 400, message: "bad" });
  });

  it("a 400 that names nothing is narrowed down by halving the batch", async () => {
    const bad = "p3";
    const requests: string[][] = [];
    const fetch: FetchLike = async (_url, init) => {
      const ids = (JSON.parse(init.body ?? "{}") as { data: ShareItem[] }).data.map(
        (item) => (item.data as { id: string }).id,
      );
      requests.push(ids);
      const status = ids.includes(bad) ? 400 : 200;
      return { status, text: async () => "" };
    };
    const rejected: unknown[] = [];
    const queue = createShareQueue({
      http: createShareHttp({ server: "http://share.test", fetch }),
      records: { get: () => ({ id: "aaaaAAAA", secret: "s" }), remove: () => {} },
    });
    queue.on("rejected", (event) => rejected.push(event.items.map((i) => i.key)));
    queue.sync(
      sessionA,
      ["p1", "p2", "p3", "p4"].map((id) => part(id, id)),
    );
    await vi.advanceTimersByTimeAsync(1000);
    expect(requests).toEqual([
      ["p1", "p2", "p3", "p4"],
      ["p1", "p2"],
      ["p3", "p4"],
      ["p3"],
      ["p4"],
    ]);
    expect(rejected).toEqual([["session/part/ses_aaaaAAAA/msg_1/p3"]]);
    expect(queue.pendingCount()).toBe(0);
  });

  it("an item that cannot be serialized is dropped and reported; the others are sent", async () => {
    const { queue, requests, named } = setup();
    const cyclic: Record<string, unknown> = { id: "p2", messageID: "msg_1", sessionID: sessionA };
    cyclic.self = cyclic;
    queue.sync(sessionA, [part("p1", "a"), { type: "part", data: cyclic }, part("p3", "c")]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(requests.map(texts)).toEqual([["a"], ["c"]]);
    expect(named("rejected")).toEqual([
      expect.objectContaining({
        status: 0,
        error: expect.objectContaining({ code: "ERR_SHARE_ITEM" }),
        items: [expect.objectContaining({ key: "session/part/ses_aaaaAAAA/msg_1/p2" })],
      }),
    ]);
    expect(queue.pendingCount()).toBe(0);
  });

  it("items without a key are returned as invalid and never sent", () => {
    const { queue } = setup();
    const result = queue.sync(sessionA, [
      part("p1", "a"),
      { type: "non sense", data: {} },
      { type: "part", data: { id: "x" } },
    ]);
    expect(result.queued).toBe(1);
    expect(result.invalid.map((i) => [i.index, i.reason])).toEqual([
      [1, expect.stringMatching(/"non sense"/)],
      [2, expect.stringMatching(/messageID/)],
    ]);
  });

  it("no record for a session: its items are dropped and reported", async () => {
    const { queue, requests, named, records } = setup();
    records.delete(sessionA);
    queue.sync(sessionA, [part("p1", "a")]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(requests).toHaveLength(0);
    expect(named("no-record")).toEqual([
      expect.objectContaining({
        sessionID: sessionA,
        error: expect.objectContaining({ code: "ERR_SHARE_RECORD" }),
      }),
    ]);
  });

  it("refuses options that cannot work with ERR_INVALID_OPTION, when it is made", () => {
    const http = createShareHttp({ server: "http://share.test", fetch: scriptedFetch().fetch });
    const records = { get: () => undefined, remove: () => {} };
    const made = (options: Record<string, unknown>) => () =>
      createShareQueue({ http, records, ...options });
    const invalid = expect.objectContaining({ code: "ERR_INVALID_OPTION" });
    expect(made({ windowMs: -1 })).toThrow(invalid);
    expect(made({ closeTimeoutMs: Number.NaN })).toThrow(invalid);
    expect(made({ backoff: { factor: 0 } })).toThrow(invalid);
    expect(made({ backoff: { initialMs: -5 } })).toThrow(/share queue: backoff/);
    expect(made({ records: {} })).toThrow(invalid);
    expect(made({ http: {} })).toThrow(invalid);
    const queue = createShareQueue({ http, records });
    expect(() => queue.on("synced", "nope" as never)).toThrow(invalid);
  });

  it("close() flushes pending items at once and resolves when delivered", async () => {
    const { queue, requests } = setup();
    queue.sync(sessionA, [part("p1", "a")]);
    queue.sync(sessionB, [part("p1", "b", sessionB)]);
    const closing = queue.close();
    await vi.advanceTimersByTimeAsync(0);
    expect(requests).toHaveLength(2);
    await expect(closing).resolves.toEqual({ delivered: true, undelivered: [] });
    expect(() => queue.sync(sessionA, [part("p1", "c")])).toThrow(
      expect.objectContaining({ code: "ERR_SHUTTING_DOWN" }),
    );
  });

  it("close() gives up after its bounded wait and says what was not delivered", async () => {
    const { queue, requests } = setup(Array.from({ length: 50 }, () => ({ status: 503 })));
    queue.sync(sessionA, [part("p1", "a")]);
    const closing = queue.close(5000);
    await vi.advanceTimersByTimeAsync(5000);
    const result = await closing;
    expect(result).toEqual({
      delivered: false,
      undelivered: [{ sessionID: sessionA, keys: ["session/part/ses_aaaaAAAA/msg_1/p1"] }],
    });
    const sent = requests.length;
    expect(sent).toBeGreaterThan(1);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(requests).toHaveLength(sent);
  });

  it("flush() sends now, retrying at once a batch waiting out its backoff", async () => {
    const { queue, requests } = setup([{ status: 502 }]);
    queue.sync(sessionA, [part("p1", "a")]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(requests).toHaveLength(1);
    const flushed = queue.flush();
    await vi.advanceTimersByTimeAsync(0);
    expect(requests).toHaveLength(2);
    await flushed;
    expect(queue.pendingCount()).toBe(0);
  });
});
