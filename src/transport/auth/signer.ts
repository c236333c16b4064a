// The one signing interface the handshake needs, so a private key file and ssh-agent are
// interchangeable; plus the signer for a key held in memory (a decrypted key file, a host key).

import type { ParsedKey } from "ssh2";
import { createError } from "../../protocol/errors.js";
import { ecdsaDerToSsh } from "./ecdsa-signature.js";
import { formatPublicKey, publicKeyOf } from "./public-key.js";
import {
  encodeSshSignature,
  type SignatureAlgorithm,
  signatureAlgorithmFor,
  signatureHashOf,
} from "./ssh-signature.js";

/** Something that signs with one SSH key. */
export interface Signer {
  /** The public key as an OpenSSH line, `type base64` (no comment). */
  readonly publicKey: string;
  /** The algorithm `sign` uses: the key type, or `rsa-sha2-512` for RSA keys (never SHA-1). */
  readonly algorithm: SignatureAlgorithm;
  /** Signs `data`; resolves to an SSH signature blob (`string algorithm ‖ string signature`). */
  sign(data: Uint8Array): Promise<Uint8Array>;
}

/**
 * A signer for a private key already parsed (and decrypted) by ssh2. `source` names where the key
 * came from (a file path) for error messages. Keep the signer: parsing an encrypted key is slow.
 */
export function createKeySigner(privateKey: ParsedKey, source: string): Signer {
  const fail = (reason: string) =>
    createError("ERR_AUTH_KEY_FILE", `identity ${source}: ${reason}`);
  if (!privateKey.isPrivateKey()) throw fail("is a public key, not a private key");
  const key = publicKeyOf(privateKey, (reason, problem) =>
    createError(
      problem === "unsupported" ? "ERR_AUTH_ALGORITHM" : "ERR_AUTH_KEY_FILE",
      `identity ${source}: ${reason}`,
    ),
  );
  const algorithm = signatureAlgorithmFor(key.type);
  return {
    publicKey: formatPublicKey(key),
    algorithm,
    async sign(data) {
      const result: Buffer | Error = privateKey.sign(Buffer.from(data), signatureHashOf[algorithm]);
      if (result instanceof Error) throw fail(`signing failed: ${result.message}`);
      const raw = algorithm.startsWith("ecdsa-") ? ecdsaDerToSsh(result) : result;
      return encodeSshSignature(algorithm, raw);
    },
  };
}
