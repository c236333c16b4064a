// Bounds on RSA public keys, checked on the key's blob before anything uses the key: verifying a
// signature costs a modular exponentiation whose price the key's owner sets (OpenSSL verifies with
// a 3072-bit modulus and an exponent just as long), and the key comes from an unauthenticated
// peer (AUTH, an SSHSIG, a server's CHALLENGE) before anything else about it is known.

import { createSshReader } from "./ssh-reader.js";

/** The smallest RSA modulus accepted, bits (OpenSSH refuses below 1024; 2048 is NIST's floor). */
export const minRsaModulusBits = 2048;
/** The largest RSA modulus accepted, bits (ssh-keygen makes at most 16384; nobody uses above 8192). */
export const maxRsaModulusBits = 8192;
/** The largest RSA public exponent accepted: it must fit in 32 bits (keys use 65537). */
export const maxRsaExponentBits = 32;

/**
 * Why the `ssh-rsa` blob's key is outside our bounds, or undefined when it is within them: a
 * modulus of `minRsaModulusBits`–`maxRsaModulusBits` bits, an odd exponent of at least 3 and at
 * most `maxRsaExponentBits` bits. Throws `fail(reason)` when the blob is malformed.
 */
export function rsaKeyProblem(
  blob: Uint8Array,
  fail: (reason: string) => Error,
): string | undefined {
  const reader = createSshReader(blob, fail);
  reader.readString(); // the type, "ssh-rsa"
  const exponent = reader.readString();
  const modulus = reader.readString();
  const exponentBits = bitLength(exponent);
  const modulusBits = bitLength(modulus);
  if (modulusBits < minRsaModulusBits || modulusBits > maxRsaModulusBits) {
    return `RSA modulus of ${modulusBits} bits is outside ${minRsaModulusBits}–${maxRsaModulusBits} bits`;
  }
  if (exponentBits > maxRsaExponentBits) {
    return `RSA public exponent of ${exponentBits} bits is longer than ${maxRsaExponentBits} bits`;
  }
  const lowest = exponent[exponent.length - 1] ?? 0;
  if (exponentBits < 2 || (lowest & 1) === 0) {
    return "RSA public exponent is not an odd number of at least 3";
  }
  return undefined;
}

/** The bit length of an unsigned big-endian number (an mpint of a positive value). */
function bitLength(bytes: Uint8Array): number {
  let first = 0;
  while (first < bytes.length && bytes[first] === 0) first++;
  if (first === bytes.length) return 0;
  return (bytes.length - first - 1) * 8 + (32 - Math.clz32(bytes[first] ?? 0));
}
