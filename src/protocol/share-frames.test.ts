import { describe, expect, it } from "vitest";
import {
  encodeStateFrame,
  encodeUpdateFrame,
  encodeUpdateFrameJson,
  isKeyFrame,
  isShareEpoch,
  isUpdateFrame,
  parseStateFrame,
  parseViewerVersion,
  snapshotFrameHead,
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

  it("encode a full state's key as {key, content}: its head, the content's JSON, then }", () => {
    const key = 'session/part/s/m/"p"';
    const content = { text: "é 😀" };
    const frame = JSON.parse(`${snapshotFrameHead(key)}${JSON.stringify(content)}}`);
    expect(frame).toEqual({ key, content });
    expect(Object.keys(frame)).toEqual(["key", "content"]);
    expect(isKeyFrame(frame)).toBe(true);
    expect(isUpdateFrame(frame)).toBe(false);
  });

  it("encode and parse version 2's state frame, with the share's epoch when it has one", () => {
    expect(JSON.parse(encodeStateFrame(12, "Ab_-09xYz"))).toEqual({
      type: "state",
      seq: 12,
      epoch: "Ab_-09xYz",
    });
    expect(JSON.parse(encodeStateFrame(0, undefined))).toEqual({ type: "state", seq: 0 });
    expect(parseStateFrame({ type: "state", seq: 4, epoch: "e1" })).toEqual({
      type: "state",
      seq: 4,
      epoch: "e1",
    });
    expect(parseStateFrame({ type: "state", seq: 4, epoch: "a b" })).toEqual({
      type: "state",
      seq: 4,
    });
    for (const bad of [{ type: "state" }, { type: "state", seq: -1 }, { seq: 1 }, null, 3]) {
      expect(parseStateFrame(bad)).toBeUndefined();
    }
  });

  it("validate epochs", () => {
    expect(isShareEpoch("c1764473940000")).toBe(true);
    expect(isShareEpoch("e".repeat(64))).toBe(true);
    for (const bad of ["", "e".repeat(65), "a b", "a/b", "é", 12, null, undefined]) {
      expect(isShareEpoch(bad)).toBe(false);
    }
  });

  it("tell updates from a full state's keys and from the state frame", () => {
    expect(isUpdateFrame({ key: "k", content: null, seq: 1 })).toBe(true);
    expect(isUpdateFrame({ key: "k", content: null })).toBe(false);
    expect(isUpdateFrame({ key: "k", content: null, seq: "1" })).toBe(false);
    expect(isKeyFrame({ key: "k" })).toBe(false);
    expect(isKeyFrame({ type: "state", seq: 1 })).toBe(false);
    expect(isKeyFrame(null)).toBe(false);
  });

  it("know versions 1 and 2 of the viewer's frames, no other", () => {
    expect(parseViewerVersion("1")).toBe(1);
    expect(parseViewerVersion("2")).toBe(2);
    for (const bad of ["", "3", "02", "2.0", "v2"]) expect(parseViewerVersion(bad)).toBeUndefined();
  });
});
