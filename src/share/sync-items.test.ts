import { describe, expect, it } from "vitest";
import {
  capIgnored,
  checkItemCount,
  maxIgnoredListed,
  maxSyncItems,
  prepareItems,
  prepareKeyWrite,
  refuseTooLargeAlone,
} from "./sync-items.js";

const session = "ses_items_abcdefgh";
const limit = 1024;

describe("prepareItems", () => {
  it("turns valid items into writes of their JSON, keyed by the schema", () => {
    const prepared = prepareItems(
      [
        { type: "session", data: { id: session, title: "t" } },
        { type: "part", data: { id: "p", messageID: "m", text: "x" } },
      ],
      session,
      limit,
    );
    expect(prepared.writes).toEqual([
      { key: `session/info/${session}`, json: JSON.stringify({ id: session, title: "t" }) },
      {
        key: `session/part/${session}/m/p`,
        json: JSON.stringify({ id: "p", messageID: "m", text: "x" }),
      },
    ]);
    expect(prepared.ignored).toEqual([]);
    expect(prepared.tooLarge).toEqual([]);
  });

  it("keeps the last value of a key, and orders writes by key: messages before parts", () => {
    const part = (text: string) => ({ type: "part", data: { id: "p", messageID: "m", text } });
    const prepared = prepareItems(
      [
        part("a"),
        { type: "message", data: { id: "m" } },
        { type: "session", data: { id: session } },
        part("b"),
      ],
      session,
      limit,
    );
    expect(prepared.writes.map((w) => w.key)).toEqual([
      `session/info/${session}`,
      `session/message/${session}/m`,
      `session/part/${session}/m/p`,
    ]);
    expect(JSON.parse(prepared.writes[2]?.json ?? "").text).toBe("b");
  });

  it("ignores what is not an item or has no key, with its index and the reason", () => {
    const prepared = prepareItems(
      [null, 7, [], { data: {} }, { type: "no pe", data: {} }, { type: "model", data: {} }],
      session,
      limit,
    );
    expect(prepared.writes).toEqual([]);
    expect(prepared.ignored.map((i) => i.index)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(prepared.ignored[0]?.reason).toBe("item 0: must be an object {type, data}");
    expect(prepared.ignored[4]?.reason).toMatch(/^item 4: item type "no pe"/);
    expect(prepared.ignored[5]?.reason).toBe("item 5: item model: data must be an array");
  });

  it("measures items as UTF-8 JSON against the limit and names the ones over it", () => {
    const fits = "é".repeat(400); // 800 bytes of UTF-8
    const over = "é".repeat(600); // 1200 bytes
    const prepared = prepareItems(
      [
        { type: "part", data: { id: "a", messageID: "m", t: fits } },
        { type: "part", data: { id: "b", messageID: "m", t: over } },
      ],
      session,
      limit,
    );
    expect(prepared.writes.map((w) => w.key)).toEqual([`session/part/${session}/m/a`]);
    expect(prepared.tooLarge).toEqual([
      {
        index: 1,
        key: `session/part/${session}/m/b`,
        code: "ERR_SHARE_TOO_LARGE",
        reason: expect.stringMatching(
          /^item 1 \(.*\/b\) is 12\d\d bytes of JSON, more than the limit of 1024$/,
        ),
      },
    ]);
  });
});

describe("refuseTooLargeAlone (a batch of POST /api/share/:id/sync)", () => {
  it("lists items over the limit among the ignored, in order, and keeps the rest", () => {
    const part = (id: string, t: string) => ({ type: "part", data: { id, messageID: "m", t } });
    const prepared = refuseTooLargeAlone(
      prepareItems(
        [part("a", "x".repeat(2000)), 5, part("b", "ok"), part("b", "y".repeat(2000))],
        session,
        limit,
      ),
    );
    expect(prepared.tooLarge).toEqual([]);
    expect(prepared.ignored.map((i) => [i.index, i.code])).toEqual([
      [0, "ERR_SHARE_TOO_LARGE"],
      [1, undefined],
      [3, "ERR_SHARE_TOO_LARGE"],
    ]);
    // The last item of key b was refused: its earlier value is stale, not written either.
    expect(prepared.writes).toEqual([]);
  });
});

describe("prepareKeyWrite (the older /share_sync)", () => {
  it("accepts a key of the schema for the share's session", () => {
    const prepared = prepareKeyWrite(`session/message/${session}/m1`, { id: "m1" }, session, limit);
    expect(prepared.writes).toEqual([
      { key: `session/message/${session}/m1`, json: '{"id":"m1"}' },
    ]);
  });

  it("ignores other keys, other sessions and missing content, naming the value", () => {
    const reason = (key: unknown, content: unknown = {}) =>
      prepareKeyWrite(key, content, session, limit).ignored[0]?.reason;
    expect(reason("session/foo")).toBe('key "session/foo" does not match the key schema');
    expect(reason(42)).toBe("key 42 does not match the key schema");
    expect(reason(`session/share/${session}`)).toMatch(/does not match the key schema/);
    expect(reason("session/info/other_session")).toMatch(
      /names session "other_session", not the share's session/,
    );
    const missing = prepareKeyWrite(`session/info/${session}`, undefined, session, limit);
    expect(missing.ignored[0]?.reason).toMatch(/content is missing/);
  });
});

describe("checkItemCount", () => {
  it("lets up to the limit through and refuses more with 413 naming the count and the limit", () => {
    expect(maxSyncItems).toBe(10_000);
    expect(() => checkItemCount(10_000)).not.toThrow();
    expect(() => checkItemCount(10_001)).toThrow(
      expect.objectContaining({
        code: "ERR_SHARE_TOO_LARGE",
        status: 413,
        message:
          "share sync: the request has 10001 items, more than the limit of 10000 per request; nothing was applied",
      }),
    );
    expect(() => checkItemCount(3, 2)).toThrow(/has 3 items, more than the limit of 2/);
  });
});

describe("capIgnored", () => {
  it("keeps the first 100 ignored entries and counts them all", () => {
    const prepared = prepareItems(
      Array.from({ length: 5_000 }, () => 1),
      session,
      limit,
    );
    const answer = capIgnored({ seq: 0, ignored: prepared.ignored });
    expect(maxIgnoredListed).toBe(100);
    expect(answer.ignored).toHaveLength(100);
    expect(answer.ignored[99]?.index).toBe(99);
    expect(answer.ignoredCount).toBe(5_000);
    expect(answer.seq).toBe(0);
    expect(capIgnored({ ignored: [] })).toEqual({ ignored: [], ignoredCount: 0 });
  });
});
