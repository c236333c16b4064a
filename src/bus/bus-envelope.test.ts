// The bus envelope on bytes: round trips, the exact layout, and refusals that never throw.

import { describe, expect, it } from "vitest";
import {
  busEnvelopeMark,
  busEnvelopeVersion,
  decodeBusEnvelope,
  encodeBusEnvelope,
  isValidSenderId,
} from "./bus-envelope.js";

const M = busEnvelopeMark;
const every = Uint8Array.from({ length: 256 }, (_, i) => i);

/** The reason of a refused decode, with its problem. */
function refusal(bytes: unknown): string {
  const result = decodeBusEnvelope(bytes);
  if (result.ok) throw new Error("decoded, expected a refusal");
  return `${result.problem}: ${result.reason}`;
}

describe("bus envelope", () => {
  it("round-trips a sender and a payload: empty, every byte, a view into a larger buffer", () => {
    const view = Buffer.from("xxpayloadxx").subarray(2, 9);
    for (const payload of [new Uint8Array(0), every, view]) {
      const result = decodeBusEnvelope(encodeBusEnvelope("0123456789abcdef", payload));
      expect(result).toEqual({
        ok: true,
        envelope: { version: 1, sender: "0123456789abcdef", payload: new Uint8Array(payload) },
      });
    }
  });

  it("lays out the mark, the version, the sender's length and id, then the payload", () => {
    const bytes = encodeBusEnvelope("ab", Uint8Array.of(9, 8));
    expect(Array.from(bytes)).toEqual([0xb5, busEnvelopeVersion, 2, 0x61, 0x62, 9, 8]);
  });

  it("copies the payload: changing it after encoding changes nothing sent", () => {
    const payload = Uint8Array.of(1, 2, 3);
    const bytes = encodeBusEnvelope("node-a", payload);
    payload[0] = 99;
    const result = decodeBusEnvelope(bytes);
    expect(result.ok && Array.from(result.envelope.payload)).toEqual([1, 2, 3]);
  });

  it("accepts sender ids of 1–64 letters, digits and . _ : -, and nothing else", () => {
    for (const id of ["a", "x".repeat(64), "node-1.eu_west:7"]) {
      expect(isValidSenderId(id), id).toBe(true);
      expect(() => encodeBusEnvelope(id, every)).not.toThrow();
    }
    for (const id of ["", "x".repeat(65), "has space", "é", "a\n", 7, undefined]) {
      expect(isValidSenderId(id), String(id)).toBe(false);
      expect(() => encodeBusEnvelope(id as string, every)).toThrow(RangeError);
    }
  });

  it("refuses a newer version as such, whatever follows the version byte", () => {
    for (const bytes of [
      [0xb5, 2],
      [0xb5, 2, 0],
      [0xb5, 255, 2, 0x61, 0x62, 1],
    ]) {
      expect(refusal(Uint8Array.from(bytes))).toMatch(
        /^newer-version: envelope version \d+ is newer/,
      );
    }
  });

  it("refuses malformed bytes with a reason, never a throw", () => {
    const cases: [unknown, RegExp][] = [
      [new Uint8Array(0), /empty message/],
      [Buffer.from("garbage"), /not a bus envelope \(first byte 0x67\)/],
      [Uint8Array.of(1, 1, 1, 0x61), /not a bus envelope \(first byte 0x01\)/],
      [Uint8Array.of(M), /truncated before the version/],
      [Uint8Array.of(M, 0, 1, 0x61), /unknown envelope version 0/],
      [Uint8Array.of(M, 1), /truncated before the sender id's length/],
      [Uint8Array.of(M, 1, 0), /sender id length 0 is not within/],
      [Uint8Array.of(M, 1, 65, ...new Uint8Array(65).fill(0x61)), /sender id length 65/],
      [Uint8Array.of(M, 1, 4, 0x61, 0x62), /truncated: a sender id of 4 bytes, 2 left/],
      [Uint8Array.of(M, 1, 2, 0x61, 0x20, 7), /sender id "a " has a character/],
      [Uint8Array.of(M, 1, 2, 0xc3, 0xa9), /has a character out of/],
      ["text", /not bytes but string/],
      [null, /not bytes but null/],
      [undefined, /not bytes but undefined/],
      [[1, 1, 0x61], /not bytes but Array/],
      [new ArrayBuffer(4), /not bytes but ArrayBuffer/],
      [Object.create(null), /not bytes but an object/],
    ];
    for (const [bytes, reason] of cases) {
      expect(refusal(bytes), reason.source).toMatch(/^malformed: /);
      expect(refusal(bytes), reason.source).toMatch(reason);
    }
  });

  it("never throws on random garbage", () => {
    let state = 7;
    const random = () => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return state / 2 ** 31;
    };
    for (let i = 0; i < 2000; i++) {
      const bytes = Uint8Array.from({ length: Math.floor(random() * 40) }, () => random() * 256);
      if (i % 2 === 0 && bytes.length > 1) [bytes[0], bytes[1]] = [M, 1]; // past the mark
      const result = decodeBusEnvelope(bytes);
      if (result.ok) expect(result.envelope.sender.length).toBeGreaterThan(0);
    }
  });

  it("decodes the payload as a view, not a copy (drivers copy per handler)", () => {
    const bytes = encodeBusEnvelope("a", Uint8Array.of(5));
    const result = decodeBusEnvelope(bytes);
    expect(result.ok && result.envelope.payload.buffer).toBe(bytes.buffer);
  });
});
