import { describe, expect, it } from "vitest";
import { timingSafeEqualStrings } from "./timing-safe.js";

describe("timingSafeEqualStrings", () => {
  it("is true for equal strings", () => {
    expect(timingSafeEqualStrings("s3cret-token", "s3cret-token")).toBe(true);
    expect(timingSafeEqualStrings("x".repeat(10_000), "x".repeat(10_000))).toBe(true);
  });

  it("is false for strings that differ anywhere", () => {
    const secret = "abcdefghijklmnop";
    for (let i = 0; i < secret.length; i++) {
      const guess = `${secret.slice(0, i)}X${secret.slice(i + 1)}`;
      expect(timingSafeEqualStrings(secret, guess)).toBe(false);
    }
  });

  it("is false for different lengths, including prefixes", () => {
    expect(timingSafeEqualStrings("token", "token2")).toBe(false);
    expect(timingSafeEqualStrings("token2", "token")).toBe(false);
    expect(timingSafeEqualStrings("token", "")).toBe(false);
  });

  it("handles empty strings", () => {
    expect(timingSafeEqualStrings("", "")).toBe(true);
    expect(timingSafeEqualStrings("", "a")).toBe(false);
  });

  it("compares unicode exactly, without normalisation", () => {
    expect(timingSafeEqualStrings("clé-🔑", "clé-🔑")).toBe(true);
    expect(timingSafeEqualStrings("clé-🔑", "clé-🔒")).toBe(false);
    // NFC "é" and NFD "e" + combining acute look alike but are different strings.
    expect(timingSafeEqualStrings("\u00e9", "e\u0301")).toBe(false);
  });

  it("tells apart lone surrogates that UTF-8 would encode identically", () => {
    expect(Buffer.from("\uD800", "utf8")).toEqual(Buffer.from("\uDBFF", "utf8"));
    expect(timingSafeEqualStrings("\uD800", "\uDBFF")).toBe(false);
    expect(timingSafeEqualStrings("a\uDC00", "a\uDC00")).toBe(true);
  });

  it("rejects non-string arguments", () => {
    expect(() => timingSafeEqualStrings(undefined as unknown as string, "a")).toThrow(TypeError);
  });
});
