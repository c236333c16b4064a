// SSH signature blobs (`string algorithm ‖ string signature`, RFC 4253 §6.6): encoding, and
// verification that refuses SHA-1 RSA (`ssh-rsa`) and any algorithm that does not fit the key.

import { createError } from "../../protocol/errors.js";
import { ecdsaSshToDer } from "./ecdsa-signature.js";
import type { KeyType, PublicKey } from "./public-key.js";
import { createSshReader } from "./ssh-reader.js";
import { sshStrings } from "./ssh-string.js";

/** The signature algorithms we accept; RSA keys sign with SHA-2 only (RFC 8332). */
export type SignatureAlgorithm =
  | "ssh-ed25519"
  | "ecdsa-sha2-nistp256"
  | "ecdsa-sha2-nistp384"
  | "ecdsa-sha2-nistp521"
  | "rsa-sha2-256"
  | "rsa-sha2-512";

/** The hash OpenSSL is told to use per algorithm; ed25519 hashes internally (undefined). */
export const signatureHashOf: Readonly<Record<SignatureAlgorithm, string | undefined>> = {
  "ssh-ed25519": undefined,
  "ecdsa-sha2-nistp256": "sha256",
  "ecdsa-sha2-nistp384": "sha384",
  "ecdsa-sha2-nistp521": "sha512",
  "rsa-sha2-256": "sha256",
  "rsa-sha2-512": "sha512",
};

/** The algorithm we sign with for a key type: the key type itself, or rsa-sha2-512 for RSA. */
export function signatureAlgorithmFor(keyType: KeyType): SignatureAlgorithm {
  return keyType === "ssh-rsa" ? "rsa-sha2-512" : keyType;
}

/** True when `algorithm` is acceptable for a signature made by a key of type `keyType`. */
export function fitsKeyType(algorithm: string, keyType: KeyType): algorithm is SignatureAlgorithm {
  if (keyType === "ssh-rsa") return algorithm === "rsa-sha2-256" || algorithm === "rsa-sha2-512";
  return algorithm === keyType;
}

/** Encodes a signature blob from an algorithm name and the raw signature (SSH form for ECDSA). */
export function encodeSshSignature(algorithm: SignatureAlgorithm, signature: Uint8Array): Buffer {
  return sshStrings(algorithm, signature);
}

/** A decoded signature blob. */
export interface DecodedSignature {
  /** The algorithm name, not yet checked against anything. */
  readonly algorithm: string;
  /** The raw signature bytes (SSH `mpint r ‖ mpint s` for ECDSA). */
  readonly signature: Buffer;
}

/** Splits a signature blob; `context` starts the error message (ERR_AUTH_SIGNATURE, 4401). */
export function decodeSshSignature(blob: Uint8Array, context: string): DecodedSignature {
  const reader = createSshReader(blob, (reason) =>
    createError("ERR_AUTH_SIGNATURE", `${context}: malformed signature blob: ${reason}`),
  );
  const algorithm = reader.readText();
  const signature = reader.readString();
  reader.end();
  return { algorithm, signature };
}

/**
 * Verifies a signature blob over `data` with `key`, or throws: ERR_AUTH_ALGORITHM for `ssh-rsa`
 * (SHA-1) or an algorithm that does not fit the key, ERR_AUTH_SIGNATURE for a malformed or wrong
 * signature. Both carry close code 4401.
 */
export function verifySshSignature(
  key: PublicKey,
  data: Uint8Array,
  blob: Uint8Array,
  context: string,
): void {
  const { algorithm, signature } = decodeSshSignature(blob, context);
  if (!fitsKeyType(algorithm, key.type)) {
    const why = algorithm === "ssh-rsa" ? "SHA-1 RSA signatures are refused" : "not accepted";
    throw createError(
      "ERR_AUTH_ALGORITHM",
      `${context}: signature algorithm "${algorithm.slice(0, 64)}" for a ${key.type} key: ${why}`,
    );
  }
  const invalid = (reason: string) => createError("ERR_AUTH_SIGNATURE", `${context}: ${reason}`);
  const raw = algorithm.startsWith("ecdsa-") ? ecdsaSshToDer(signature, invalid) : signature;
  const result = key.parsed.verify(Buffer.from(data), raw, signatureHashOf[algorithm]);
  if (result !== true) {
    throw invalid(`${algorithm} signature does not verify`);
  }
}
