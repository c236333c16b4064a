import { describe, expect, it } from "vitest";
import { rememberReceivedFrame, takeReceivedFrame } from "./received-frames.js";

describe("received frames", () => {
  it("gives a remembered frame to the first taker only, and only for the payload view itself", () => {
    const frame = new Uint8Array(10 + 5);
    const payload = frame.subarray(10);
    rememberReceivedFrame(payload, frame);
    // Another view of the same bytes is not the payload the frame was recorded for.
    expect(takeReceivedFrame(frame.subarray(10))).toBeUndefined();
    expect(takeReceivedFrame(payload)).toBe(frame);
    expect(takeReceivedFrame(payload)).toBeUndefined();
  });

  it("refuses a payload that is not exactly the frame's tail after the 10-byte header", () => {
    const frame = new Uint8Array(30);
    expect(() => rememberReceivedFrame(frame.subarray(9), frame)).toThrow(RangeError);
    expect(() => rememberReceivedFrame(frame.subarray(10, 29), frame)).toThrow(RangeError);
    expect(() => rememberReceivedFrame(new Uint8Array(20), frame)).toThrow(RangeError);
  });
});
