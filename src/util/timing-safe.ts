// Secret comparison (tokens, share keys) whose running time does not reveal how much of a guess
// was right: both sides are hashed to fixed-size digests, then compared in constant time.

import { createHash, timingSafeEqual } from "node:crypto";

/**
 * True when `a` and `b` are the same string. The time taken does not depend on where they differ
 * or on whether their lengths match; hashing still takes time proportional to the input length,
 * which reveals the length of a secret only to 64-byte granularity.
 */
export function timingSafeEqualStrings(a: string, b: string): boolean {
  if (typeof a !== "string" || typeof b !== "string") {
    throw new TypeError(
      `timing-safe compare: expected two strings, got ${typeof a} and ${typeof b}`,
    );
  }
  // Hash the UTF-16 code units, not UTF-8: UTF-8 encoding maps every lone surrogate to U+FFFD,
  // which would make distinct strings such as "\uD800" and "\uDBFF" compare equal.
  const digestA = createHash("sha256").update(a, "utf16le").digest();
  const digestB = createHash("sha256").update(b, "utf16le").digest();
  // Equal digests already mean equal strings; the length check only guards against a collision.
  return timingSafeEqual(digestA, digestB) && a.length === b.length;
}
