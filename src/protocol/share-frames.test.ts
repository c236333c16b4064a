import { describe, expect, it } from "vitest";
import {
  encodeInitialStateJson,
  encodeUpdateFrame,
  encodeUpdateFrameJson,
  epochOfInitialState,
  initialEpochEntry,
  initialSeqEntry,
  isReservedEntry,
  isShareEpoch,
  isUpdateFrame,
  seqOfInitialState,
} from "./share-frames.js";

describe("viewer frames", () => {
  it("encode an update as {key, content, seq}", () => {
    const frame = { key: "session/info/abc", content: { title: "t", n: [1, 2] }, seq: 7 };
    expect(JSON.parse(encodeUpdateFrame(frame))).toEqual(frame);
  });

  it("encode the same bytes from content already serialized", () => {
    const content = { text: 'quote " and \u2028 and emoji 😀', nested: { a: null } };
    const frame = { key: 'session/part/s/m/"p"', content, seq: 3 };
    expect(encodeUpdateFrameJson(frame.key, JSON.stringify(content), 3)).toBe(
      encodeUpdateFrame(frame),
    );
  });

  it("encode the initial state with share/seq last", () => {
    const text = encodeInitialStateJson(
      [
        ["session/info/s", JSON.stringify({ id: "s" })],
        ["session/message/s/m", JSON.stringify({ id: "m" })],
      ],
      12,
    );
    const parsed = JSON.parse(text);
    expect(parsed).toEqual({
      "session/info/s": { id: "s" },
      "session/message/s/m": { id: "m" },
      [initialSeqEntry]: 12,
    });
    expect(Object.keys(parsed).at(-1)).toBe(initialSeqEntry);
    expect(seqOfInitialState(parsed)).toBe(12);
    expect(JSON.parse(encodeInitialStateJson([], 0))).toEqual({ "share/seq": 0 });
  });

  it("encode the share's epoch as share/epoch, before share/seq", () => {
    const text = encodeInitialStateJson([["session/info/s", "{}"]], 4, "Ab_-09xYz");
    const parsed = JSON.parse(text);
    expect(parsed).toEqual({ "session/info/s": {}, "share/epoch": "Ab_-09xYz", "share/seq": 4 });
    expect(Object.keys(parsed).slice(-2)).toEqual([initialEpochEntry, initialSeqEntry]);
    expect(epochOfInitialState(parsed)).toBe("Ab_-09xYz");
    expect(epochOfInitialState({ "share/seq": 4 })).toBeUndefined();
    expect(epochOfInitialState({ "share/epoch": 7 })).toBeUndefined();
    expect(epochOfInitialState({ "share/epoch": "a b" })).toBeUndefined();
    expect(JSON.parse(encodeInitialStateJson([], 0, undefined))).toEqual({ "share/seq": 0 });
  });

  it("validate epochs and name the reserved entries", () => {
    expect(isShareEpoch("c1764473940000")).toBe(true);
    expect(isShareEpoch("e".repeat(64))).toBe(true);
    for (const bad of ["", "e".repeat(65), "a b", "a/b", "é", 12, null, undefined]) {
      expect(isShareEpoch(bad)).toBe(false);
    }
    expect(isReservedEntry("share/seq")).toBe(true);
    expect(isReservedEntry("share/epoch")).toBe(true);
    expect(isReservedEntry("session/info/s")).toBe(false);
  });

  it("tell updates from the initial state", () => {
    expect(isUpdateFrame({ key: "k", content: null, seq: 1 })).toBe(true);
    expect(isUpdateFrame({ "session/info/s": {}, "share/seq": 1 })).toBe(false);
    expect(isUpdateFrame({ key: "k" })).toBe(false);
    expect(isUpdateFrame(null)).toBe(false);
    expect(seqOfInitialState({ "share/seq": -1 })).toBeUndefined();
    expect(seqOfInitialState({})).toBeUndefined();
  });
});
