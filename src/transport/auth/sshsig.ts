// SSHSIG, the signature envelope of `ssh-keygen -Y sign` (OpenSSH PROTOCOL.sshsig): a signature
// over H(message) bound to a namespace, carrying its public key. Ours and OpenSSH's are
// interchangeable in both directions, armored or binary.

import { createHash } from "node:crypto";
import { createError } from "../../protocol/errors.js";
import { fingerprintOf } from "./fingerprint.js";
import { type PublicKey, parsePublicKey, samePublicKey } from "./public-key.js";
import type { Signer } from "./signer.js";
import { createSshReader } from "./ssh-reader.js";
import { verifySshSignature } from "./ssh-signature.js";
import { sshString, sshStrings, sshU32 } from "./ssh-string.js";

const magic = Buffer.from("SSHSIG");
const version = 1;
const armorBegin = "-----BEGIN SSH SIGNATURE-----";
const armorEnd = "-----END SSH SIGNATURE-----";
// ssh-keygen wraps the base64 body at 70 columns; matching it makes our files byte-identical.
const armorWidth = 70;

/** The message digests SSHSIG allows. */
export type SshsigHash = "sha256" | "sha512";

/** What `createSshsig` signs. */
export interface CreateSshsigOptions {
  /** The key that signs (a key file or ssh-agent). */
  readonly signer: Signer;
  /** The namespace, e.g. `file` or `syncline-wire-auth@syncline`; a verifier must expect it. */
  readonly namespace: string;
  /** The message; only its hash is signed. */
  readonly message: Uint8Array;
  /** The message digest. Default `sha512`, as ssh-keygen uses. */
  readonly hashAlgorithm?: SshsigHash;
}

/** What `verifySshsig` checks. */
export interface VerifySshsigOptions {
  /** The binary SSHSIG blob (see `parseArmoredSshsig` for the text form). */
  readonly signature: Uint8Array;
  /** The namespace the signature must carry. */
  readonly namespace: string;
  /** The message that was signed. */
  readonly message: Uint8Array;
  /** When given, the signing key must be one of these (ERR_AUTH_NOT_AUTHORIZED, 4403). */
  readonly allowedKeys?: readonly PublicKey[];
  /**
   * When given, the blob must carry exactly this key (ERR_AUTH_SIGNATURE otherwise). Like
   * `allowedKeys`, checked before the signature is verified: verifying with a key nobody vouched
   * for would let a stranger choose what the check costs.
   */
  readonly expectedKey?: PublicKey;
}

function signedData(namespace: string, hash: SshsigHash, message: Uint8Array): Buffer {
  const digest = createHash(hash).update(message).digest();
  return Buffer.concat([magic, sshStrings(namespace, "", hash, digest)]);
}

/** Signs `message` as SSHSIG; resolves to the binary blob (`armorSshsig` for the text form). */
export async function createSshsig(options: CreateSshsigOptions): Promise<Buffer> {
  const { signer, namespace, message } = options;
  const hash = options.hashAlgorithm ?? "sha512";
  const publicKey = parsePublicKey(signer.publicKey, (reason) =>
    createError("ERR_AUTH_KEY_FILE", `sshsig: signer public key: ${reason}`),
  );
  const signature = await signer.sign(signedData(namespace, hash, message));
  return Buffer.concat([
    magic,
    sshU32(version),
    sshStrings(publicKey.blob, namespace, "", hash),
    sshString(signature),
  ]);
}

function invalid(reason: string) {
  return createError("ERR_AUTH_SIGNATURE", `sshsig: ${reason}`);
}

/**
 * Verifies an SSHSIG blob and returns the key that made it, or throws (all with close code 4401
 * unless noted): ERR_AUTH_SIGNATURE for wrong magic or version, a namespace other than expected, a
 * malformed blob or a signature that does not verify; ERR_AUTH_ALGORITHM for a SHA-1 RSA
 * signature, an unknown digest or an unsupported key type; ERR_AUTH_NOT_AUTHORIZED (4403) when
 * `allowedKeys` is given and does not hold the key. The key is checked against `expectedKey` and
 * `allowedKeys` before the signature is verified.
 */
export function verifySshsig(options: VerifySshsigOptions): PublicKey {
  const reader = createSshReader(options.signature, (reason) => invalid(`malformed: ${reason}`));
  if (!reader.readRaw(magic.length).equals(magic)) throw invalid("missing SSHSIG magic preamble");
  const blobVersion = reader.readU32();
  if (blobVersion !== version) throw invalid(`unsupported version ${blobVersion}`);
  const key = parsePublicKey(reader.readString(), (reason, problem) =>
    problem === "unsupported"
      ? createError("ERR_AUTH_ALGORITHM", `sshsig: ${reason}`)
      : invalid(reason),
  );
  const namespace = reader.readText();
  if (namespace !== options.namespace) {
    throw invalid(`namespace "${namespace.slice(0, 100)}" is not "${options.namespace}"`);
  }
  reader.readString(); // reserved: PROTOCOL.sshsig says to ignore it
  const hash = reader.readText();
  if (hash !== "sha256" && hash !== "sha512") {
    throw createError("ERR_AUTH_ALGORITHM", `sshsig: hash "${hash.slice(0, 64)}" is not allowed`);
  }
  const signature = reader.readString();
  reader.end();
  const expected = options.expectedKey;
  if (expected !== undefined && !samePublicKey(expected, key)) {
    throw invalid(
      `signed by ${fingerprintOf(key)}, not by the expected ${fingerprintOf(expected)}`,
    );
  }
  if (options.allowedKeys && !options.allowedKeys.some((allowed) => samePublicKey(allowed, key))) {
    throw createError("ERR_AUTH_NOT_AUTHORIZED", `sshsig: ${key.type} key is not allowed`);
  }
  verifySshSignature(key, signedData(namespace, hash, options.message), signature, "sshsig");
  return key;
}

/** The text form written by `ssh-keygen -Y sign` (`-----BEGIN SSH SIGNATURE-----` …). */
export function armorSshsig(blob: Uint8Array): string {
  const body = Buffer.from(blob).toString("base64");
  const lines: string[] = [];
  for (let i = 0; i < body.length; i += armorWidth) lines.push(body.slice(i, i + armorWidth));
  return `${armorBegin}\n${lines.join("\n")}\n${armorEnd}\n`;
}

/** The binary blob inside an armored SSHSIG; ERR_AUTH_SIGNATURE when the armor is broken. */
export function parseArmoredSshsig(text: string): Buffer {
  const trimmed = text.trim();
  if (!trimmed.startsWith(armorBegin) || !trimmed.endsWith(armorEnd)) {
    throw invalid(`armor: expected "${armorBegin}" … "${armorEnd}"`);
  }
  const body = trimmed.slice(armorBegin.length, -armorEnd.length).replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(body)) throw invalid("armor: body is not base64");
  return Buffer.from(body, "base64");
}
