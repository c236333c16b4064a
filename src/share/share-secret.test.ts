import { describe, expect, it } from "vitest";
import { generateSecret, hashSecret, verifySecret } from "./share-secret.js";

describe("share secrets", () => {
  it("are 256 random bits, URL-safe, different each time", () => {
    const a = generateSecret();
    const b = generateSecret();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(a, "base64url")).toHaveLength(32);
    expect(a).not.toBe(b);
  });

  it("are stored as a digest that does not contain the secret", () => {
    const secret = generateSecret();
    const digest = hashSecret(secret);
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    expect(digest).not.toContain(secret);
  });

  it("verify only the right secret; non-strings and empty strings are false, not errors", () => {
    const secret = generateSecret();
    const digest = hashSecret(secret);
    expect(verifySecret(secret, digest)).toBe(true);
    expect(verifySecret(`${secret}x`, digest)).toBe(false);
    expect(verifySecret(secret.slice(1), digest)).toBe(false);
    for (const bad of [undefined, null, 42, {}, [], ""])
      expect(verifySecret(bad, digest)).toBe(false);
    expect(verifySecret("x".repeat(5000), digest)).toBe(false);
  });
});
