import { describe, expect, it } from "vitest";
import { clipHash, clipNamePrefix, decodeClipPayload, encodeClipName } from "./clip-payload.js";

const png = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  Buffer.from("rest"),
]);

describe("clipboard payloads", () => {
  it("round-trips kind, type and device name through the payload's name", () => {
    const name = encodeClipName({ kind: "image", mime: "image/png", device: "laptop" });
    expect(name.startsWith(clipNamePrefix)).toBe(true);
    expect(decodeClipPayload(name, png)).toEqual({
      meta: { kind: "image", mime: "image/png", device: "laptop" },
    });
  });

  it("cuts a long device name, and takes plain payloads as text or PNG by their bytes", () => {
    const name = encodeClipName({
      kind: "text",
      mime: "text/plain;charset=utf-8",
      device: "x".repeat(300),
    });
    const decoded = decodeClipPayload(name, Buffer.from("hi"));
    expect("meta" in decoded && decoded.meta.device.length).toBe(64);
    expect(decodeClipPayload("notes.txt", Buffer.from("héllo"))).toMatchObject({
      meta: { kind: "text" },
    });
    expect(decodeClipPayload(undefined, png)).toMatchObject({ meta: { kind: "image" } });
  });

  it("refuses what cannot go on a clipboard, saying why", () => {
    const bad = Buffer.from([0xff, 0xfe, 0x00]);
    expect(decodeClipPayload(undefined, bad)).toHaveProperty("problem");
    expect(decodeClipPayload(`${clipNamePrefix}{not json`, Buffer.from("x"))).toEqual({
      problem: "its clipboard description is not JSON",
    });
    expect(decodeClipPayload(`${clipNamePrefix}{"kind":"file"}`, Buffer.from("x"))).toEqual({
      problem: 'it is of kind "file", not text or image',
    });
    const claimsImage = encodeClipName({ kind: "image", mime: "image/png", device: "" });
    expect(decodeClipPayload(claimsImage, Buffer.from("not a png"))).toEqual({
      problem: "its image is not a PNG",
    });
    const claimsText = encodeClipName({ kind: "text", mime: "text/plain", device: "" });
    expect(decodeClipPayload(claimsText, bad)).toEqual({ problem: "its text is not UTF-8" });
  });

  it("tells items apart by kind and bytes", () => {
    expect(clipHash("text", Buffer.from("a"))).toBe(clipHash("text", Buffer.from("a")));
    expect(clipHash("text", Buffer.from("a"))).not.toBe(clipHash("image", Buffer.from("a")));
    expect(clipHash("text", Buffer.from("a"))).not.toBe(clipHash("text", Buffer.from("b")));
  });
});
