import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { parsePublicKey } from "./public-key.js";
import { rsaKeyProblem } from "./rsa-limits.js";
import { sshStrings } from "./ssh-string.js";

/** An `ssh-rsa` blob with a modulus of `modulusBits` and the exponent `exponent` (big-endian). */
function rsaBlob(modulusBits: number, exponent: Buffer): Buffer {
  const modulus = randomBytes(Math.ceil(modulusBits / 8));
  const top = modulusBits % 8 === 0 ? 8 : modulusBits % 8;
  modulus[0] = ((modulus[0] ?? 0) & ((1 << top) - 1)) | (1 << (top - 1));
  const mpint = (value: Buffer) =>
    (value[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), value]) : value;
  return sshStrings("ssh-rsa", mpint(exponent), mpint(modulus));
}

const f4 = Buffer.from([0x01, 0x00, 0x01]);
const fail = (reason: string) => new Error(reason);

describe("rsaKeyProblem", () => {
  it("accepts 2048 to 8192-bit moduli with exponent 65537, 3 or any odd 32-bit value", () => {
    for (const bits of [2048, 3072, 4096, 8192])
      expect(rsaKeyProblem(rsaBlob(bits, f4), fail)).toBe(undefined);
    expect(rsaKeyProblem(rsaBlob(2048, Buffer.from([3])), fail)).toBe(undefined);
    expect(rsaKeyProblem(rsaBlob(2048, Buffer.from([0xff, 0xff, 0xff, 0xff])), fail)).toBe(
      undefined,
    );
  });

  it("refuses moduli outside 2048–8192 bits, naming the size", () => {
    expect(rsaKeyProblem(rsaBlob(2047, f4), fail)).toMatch(/modulus of 2047 bits/);
    expect(rsaKeyProblem(rsaBlob(1024, f4), fail)).toMatch(/modulus of 1024 bits/);
    expect(rsaKeyProblem(rsaBlob(8193, f4), fail)).toMatch(/modulus of 8193 bits/);
  });

  it("refuses exponents longer than 32 bits, even, or below 3", () => {
    const long = Buffer.concat([Buffer.from([1]), Buffer.alloc(3), Buffer.from([1])]);
    expect(rsaKeyProblem(rsaBlob(2048, long), fail)).toMatch(/exponent of 33 bits/);
    expect(rsaKeyProblem(rsaBlob(2048, randomBytes(384)), fail)).toMatch(/exponent of \d+ bits/);
    expect(rsaKeyProblem(rsaBlob(2048, Buffer.from([0x01, 0x00, 0x00])), fail)).toMatch(/odd/);
    expect(rsaKeyProblem(rsaBlob(2048, Buffer.from([1])), fail)).toMatch(/odd/);
  });

  it("makes parsePublicKey call such a key unsupported, before ssh2 parses it", () => {
    const blob = rsaBlob(2048, Buffer.concat([Buffer.from([0x7f]), randomBytes(383)]));
    expect(() =>
      parsePublicKey(`ssh-rsa ${blob.toString("base64")}`, (reason, problem) => {
        return new Error(`${problem}: ${reason}`);
      }),
    ).toThrow(/^unsupported: RSA public exponent of 3071 bits/);
  });
});
