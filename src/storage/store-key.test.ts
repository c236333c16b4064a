// Key encoding: byte order equals key order, prefixes are byte prefixes, and bounds are checked.

import { describe, expect, it } from "vitest";
import type { StoreKey } from "./store.js";
import {
  assertValidStoreKey,
  decodeKey,
  encodeKey,
  inByteRange,
  maxEncodedKeyBytes,
  prefixRangeBounds,
  rangeLimit,
} from "./store-key.js";

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
}

/** The documented order: segment by segment by UTF-8 bytes, a key before its extensions. */
function compareKeys(a: StoreKey, b: StoreKey): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const order = Buffer.compare(Buffer.from(a[i] as string), Buffer.from(b[i] as string));
    if (order !== 0) return order;
  }
  return a.length - b.length;
}

/** A seeded generator (mulberry32) so failures reproduce. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pieces = ["\u0000", "\u0001", "\u0002", "a", "b", "z", "~", "\u007f", "é", "ÿ", "日", "😀"];

function randomKey(next: () => number): string[] {
  const upTo4 = () => 1 + Math.floor(next() * 4);
  const piece = () => pieces[Math.floor(next() * pieces.length)] as string;
  return Array.from({ length: upTo4() }, () => Array.from({ length: upTo4() }, piece).join(""));
}

const sign = (n: number) => Math.sign(n);

describe("store keys", () => {
  it("orders encoded keys exactly as the keys, over many random keys", () => {
    const next = random(42);
    const keys = Array.from({ length: 3000 }, () => randomKey(next));
    for (let i = 1; i < keys.length; i++) {
      const a = keys[i - 1] as string[];
      const b = keys[i] as string[];
      expect(sign(Buffer.compare(encodeKey(a), encodeKey(b))), `${a} vs ${b}`).toBe(
        sign(compareKeys(a, b)),
      );
    }
    const byBytes = [...keys].sort((a, b) => Buffer.compare(encodeKey(a), encodeKey(b)));
    const byKeys = [...keys].sort(compareKeys);
    expect(byBytes).toEqual(byKeys);
  });

  it("round-trips keys, including control characters and unicode", () => {
    const next = random(7);
    for (let i = 0; i < 1000; i++) {
      const key = randomKey(next);
      expect(decodeKey(encodeKey(key))).toEqual(key);
    }
    const edge = ["\u0000", "\u0001", "\u0000\u0001\u0000", "a\u0000b", "😀", "x"];
    expect(decodeKey(encodeKey(edge))).toEqual(edge);
  });

  it("encodes segments with escapes and terminators", () => {
    expect(encodeKey(["a"])).toEqual(Buffer.from([0x61, 0x00]));
    expect(encodeKey(["a", "b"])).toEqual(Buffer.from([0x61, 0x00, 0x62, 0x00]));
    expect(encodeKey(["\u0000\u0001"])).toEqual(Buffer.from([0x01, 0x01, 0x01, 0x02, 0x00]));
  });

  it("puts a key before its extensions and keeps segment boundaries", () => {
    const sorted = [["a"], ["a", "\u0000"], ["a", "b"], ["a\u0000"], ["a\u0001"], ["ab"], ["b"]];
    const shuffled = [...sorted].reverse();
    shuffled.sort((x, y) => Buffer.compare(encodeKey(x), encodeKey(y)));
    expect(shuffled).toEqual(sorted);
  });

  it("rejects invalid keys with ERR_INVALID_STORE_KEY", () => {
    const invalid = [[], [""], ["a", ""], [1], [null], "a", undefined, ["\udc00"], ["a\ud800b"]];
    for (const key of invalid) {
      expect(
        codeOf(() => encodeKey(key as StoreKey)),
        JSON.stringify(key),
      ).toBe("ERR_INVALID_STORE_KEY");
    }
    expect(codeOf(() => assertValidStoreKey(["ok", "😀"]))).toBeUndefined();
  });

  it("limits encoded keys to maxEncodedKeyBytes, escapes counted", () => {
    expect(encodeKey(["x".repeat(maxEncodedKeyBytes - 1)]).length).toBe(maxEncodedKeyBytes);
    expect(codeOf(() => encodeKey(["x".repeat(maxEncodedKeyBytes)]))).toBe("ERR_INVALID_STORE_KEY");
    expect(codeOf(() => encodeKey(["\u0000".repeat(1000)]))).toBe("ERR_INVALID_STORE_KEY");
  });

  it("refuses malformed encoded bytes", () => {
    for (const bytes of [[], [0x61], [0x01, 0x03, 0x00], [0x61, 0x00, 0x01]]) {
      expect(
        codeOf(() => decodeKey(Uint8Array.from(bytes))),
        `${bytes}`,
      ).toBe("ERR_INVALID_STORE_KEY");
    }
  });

  it("bounds a prefix to exactly the keys under it", () => {
    const bounds = prefixRangeBounds(["a"]);
    const under = [["a"], ["a", "\u0000"], ["a", "ÿ"], ["a", "b", "c"]];
    const outside = [["ab"], ["a\u0000"], ["a\u0001"], ["`"], ["b"]];
    for (const key of under) expect(inByteRange(encodeKey(key), bounds), `${key}`).toBe(true);
    for (const key of outside) expect(inByteRange(encodeKey(key), bounds), `${key}`).toBe(false);
    const all = prefixRangeBounds([]);
    expect(all.start.length).toBe(0);
    expect(all.end).toBeUndefined();
    expect(inByteRange(encodeKey(["anything"]), all)).toBe(true);
  });

  it("narrows a prefix to start and end, which must lie under it", () => {
    const bounds = prefixRangeBounds(["log"], { start: ["log", "02"], end: ["log", "05"] });
    expect(bounds.start).toEqual(encodeKey(["log", "02"]));
    expect(bounds.end).toEqual(encodeKey(["log", "05"]));
    expect(prefixRangeBounds(["log"], { start: ["log"] }).start).toEqual(encodeKey(["log"]));
    expect(prefixRangeBounds([], { end: ["z"] }).end).toEqual(encodeKey(["z"]));
    for (const options of [{ start: ["lo"] }, { end: ["logs"] }, { start: ["other", "x"] }]) {
      expect(codeOf(() => prefixRangeBounds(["log"], options))).toBe("ERR_INVALID_STORE_KEY");
    }
    expect(codeOf(() => prefixRangeBounds([""]))).toBe("ERR_INVALID_STORE_KEY");
    expect(codeOf(() => prefixRangeBounds("log" as unknown as StoreKey))).toBe(
      "ERR_INVALID_STORE_KEY",
    );
  });

  it("reads the scan limit", () => {
    expect(rangeLimit()).toBe(Number.POSITIVE_INFINITY);
    expect(rangeLimit({ limit: 0 })).toBe(0);
    expect(rangeLimit({ limit: 5 })).toBe(5);
    for (const limit of [-1, 1.5, Number.NaN]) {
      expect(codeOf(() => rangeLimit({ limit }))).toBe("ERR_UNEXPECTED");
    }
  });
});
