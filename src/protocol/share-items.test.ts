import { describe, expect, it } from "vitest";
import {
  isShareId,
  itemTypeOfKey,
  keyOfItem,
  maxIdSegmentLength,
  parseShareKey,
  shareIdOfSession,
} from "./share-items.js";

const session = "ses_0123456789abcdefXYZ";

describe("share ids", () => {
  it("are the last 8 characters of a session id", () => {
    expect(shareIdOfSession(session)).toBe("bcdefXYZ");
    expect(shareIdOfSession("abcdefgh")).toBe("abcdefgh");
  });

  it("are undefined for sessions too short or with characters an id cannot carry", () => {
    expect(shareIdOfSession("short")).toBeUndefined();
    expect(shareIdOfSession("")).toBeUndefined();
    expect(shareIdOfSession("a/b/cdefghij")).toBeUndefined();
    // "." may be in a session id but not in a share id: ".defghij" is refused.
    expect(shareIdOfSession("abc.defghij")).toBeUndefined();
  });

  it("accept exactly 8 of A-Z a-z 0-9 _ -", () => {
    expect(isShareId("abcDEF09")).toBe(true);
    expect(isShareId("ab_-EF09")).toBe(true);
    for (const bad of ["abcDEF0", "abcDEF099", "abc.EF09", "abc/EF09", 12345678, undefined]) {
      expect(isShareId(bad)).toBe(false);
    }
  });
});

describe("the key schema", () => {
  it("parses every kind of key", () => {
    expect(parseShareKey(`session/info/${session}`)).toEqual({ kind: "info", sessionID: session });
    expect(parseShareKey(`session/message/${session}/msg_1`)).toEqual({
      kind: "message",
      sessionID: session,
      messageID: "msg_1",
    });
    expect(parseShareKey(`session/part/${session}/msg_1/prt_2`)).toEqual({
      kind: "part",
      sessionID: session,
      messageID: "msg_1",
      partID: "prt_2",
    });
    expect(parseShareKey(`session/diff/${session}`)).toEqual({ kind: "diff", sessionID: session });
    expect(parseShareKey(`session/model/${session}`)).toEqual({
      kind: "model",
      sessionID: session,
    });
  });

  it("refuses session/share/, unknown kinds, wrong segment counts and bad segments", () => {
    for (const key of [
      `session/share/${session}`,
      "session/foo",
      `session/info/${session}/extra`,
      `session/message/${session}`,
      `session/part/${session}/msg_1`,
      `session/info/`,
      `session/info/has space`,
      `other/info/${session}`,
      `session/info/${"x".repeat(maxIdSegmentLength + 1)}`,
      "",
    ]) {
      expect(parseShareKey(key), key).toBeUndefined();
    }
  });

  it("maps keys back to item types", () => {
    expect(itemTypeOfKey(`session/info/${session}`)).toBe("session");
    expect(itemTypeOfKey(`session/message/${session}/m`)).toBe("message");
    expect(itemTypeOfKey(`session/part/${session}/m/p`)).toBe("part");
    expect(itemTypeOfKey(`session/diff/${session}`)).toBe("session_diff");
    expect(itemTypeOfKey(`session/model/${session}`)).toBe("model");
    expect(itemTypeOfKey(`session/share/${session}`)).toBeUndefined();
  });
});

describe("keyOfItem", () => {
  it("gives each item type its key", () => {
    expect(keyOfItem({ type: "session", data: { id: session } }, session)).toEqual({
      key: `session/info/${session}`,
    });
    expect(keyOfItem({ type: "message", data: { id: "m1", sessionID: session } }, session)).toEqual(
      { key: `session/message/${session}/m1` },
    );
    expect(
      keyOfItem({ type: "part", data: { id: "p1", messageID: "m1", sessionID: session } }, session),
    ).toEqual({ key: `session/part/${session}/m1/p1` });
    expect(keyOfItem({ type: "session_diff", data: [] }, session)).toEqual({
      key: `session/diff/${session}`,
    });
    expect(keyOfItem({ type: "model", data: [{ id: "x" }] }, session)).toEqual({
      key: `session/model/${session}`,
    });
  });

  it("round-trips with itemTypeOfKey", () => {
    const item = { type: "part", data: { id: "p", messageID: "m" } };
    const result = keyOfItem(item, session);
    expect("key" in result && itemTypeOfKey(result.key)).toBe("part");
  });

  it("keeps an item of an unknown type under session/other/<session>/<type>", () => {
    const result = keyOfItem({ type: "public_transcript_v2", data: { a: 1 } }, session);
    expect(result).toEqual({ key: `session/other/${session}/public_transcript_v2` });
    expect(itemTypeOfKey(`session/other/${session}/public_transcript_v2`)).toBe(
      "public_transcript_v2",
    );
    expect(parseShareKey("share/deleted")).toBeUndefined();
  });

  it("explains why an item has no key, naming the bad value", () => {
    const reason = (item: { type: string; data: unknown }) => {
      const result = keyOfItem(item, session);
      return "reason" in result ? result.reason : undefined;
    };
    expect(reason({ type: "bogus/type", data: {} })).toMatch(
      /item type "bogus\/type" is not one of/,
    );
    expect(reason({ type: "session", data: { id: "a/b" } })).toMatch(/id "a\/b" is not a valid id/);
    expect(reason({ type: "session", data: null })).toMatch(/id null is not a valid id/);
    expect(reason({ type: "session", data: { id: "other" } })).toMatch(
      /sessionID "other" is not the share's session/,
    );
    expect(reason({ type: "message", data: { id: "m", sessionID: "other" } })).toMatch(/other/);
    expect(reason({ type: "part", data: { id: "p" } })).toMatch(/messageID undefined/);
    expect(reason({ type: "session_diff", data: {} })).toMatch(/must be an array/);
    expect(reason({ type: "model", data: "x" })).toMatch(/must be an array/);
  });
});
