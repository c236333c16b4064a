// Share secrets: 256 random bits handed to the publisher once, stored only as a SHA-256 digest and
// compared in constant time. A fast hash is enough here: the secret is random, not a password,
// so there is nothing to guess from its digest.

import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** Random bytes of a new secret (256 bits: far past the 128 a secret that guards writes needs). */
export const secretBytes = 32;

/** A new secret as URL-safe base64 (43 characters), for the publisher to keep. */
export function generateSecret(): string {
  return randomBytes(secretBytes).toString("base64url");
}

/** The digest stored instead of the secret (hex of SHA-256 over its UTF-8 bytes). */
export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}

/**
 * True when `given` is the secret whose digest is `storedHash`. Both sides are fixed-size digests,
 * so the time taken does not depend on where a guess differs; anything but a string is false.
 */
export function verifySecret(given: unknown, storedHash: string): boolean {
  if (typeof given !== "string" || given.length === 0 || given.length > 1024) return false;
  const expected = Buffer.from(storedHash, "hex");
  const actual = createHash("sha256").update(given, "utf8").digest();
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
