// SSH public keys as this project accepts them: ed25519, ECDSA (P-256/384/521) and RSA, parsed by
// ssh2 but kept with their exact wire blob, which fingerprints hash and comparisons use.

import type { ParsedKey } from "ssh2";
import ssh2 from "ssh2";
import { rsaKeyProblem } from "./rsa-limits.js";
import { createSshReader } from "./ssh-reader.js";

/** The key types we accept. DSA, FIDO (`sk-…`) and certificates are refused. */
export type KeyType =
  | "ssh-ed25519"
  | "ecdsa-sha2-nistp256"
  | "ecdsa-sha2-nistp384"
  | "ecdsa-sha2-nistp521"
  | "ssh-rsa";

/** Every accepted key type, in the order OpenSSH prefers them. */
export const supportedKeyTypes: readonly KeyType[] = [
  "ssh-ed25519",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "ssh-rsa",
];

/** A parsed public key. */
export interface PublicKey {
  /** The key type, also the first field of the blob. */
  readonly type: KeyType;
  /** The wire blob (the base64 part of a `.pub` line, decoded); fingerprints hash these bytes. */
  readonly blob: Buffer;
  /** ssh2's view of the key, which verifies signatures. */
  readonly parsed: ParsedKey;
}

/** Why a key was refused: `unsupported` for a well-formed key of a type we do not accept. */
export type PublicKeyProblem = "malformed" | "unsupported";

/** Builds the error to throw for a refused key; `reason` names the bad value. */
export type PublicKeyFailure = (reason: string, problem: PublicKeyProblem) => Error;

/** True when `type` is a key type we accept. */
export function isSupportedKeyType(type: string): type is KeyType {
  return (supportedKeyTypes as readonly string[]).includes(type);
}

const base64Pattern = /^[A-Za-z0-9+/]+={0,2}$/;

/** `text` quoted for a message, cut short: key text can come from an untrusted peer. */
function quoted(text: string): string {
  return JSON.stringify(text.length > 64 ? `${text.slice(0, 64)}…` : text);
}

/** The blob of an OpenSSH line, checked to be of a supported type and base64. */
function blobOfLine(line: string, fail: PublicKeyFailure): { type: string; blob: Buffer } {
  const [type = "", data = ""] = line.trim().split(/\s+/);
  if (!isSupportedKeyType(type))
    throw fail(`key type ${quoted(type)} is not supported`, "unsupported");
  if (!base64Pattern.test(data)) throw fail(`key data of type ${type} is not base64`, "malformed");
  return { type, blob: Buffer.from(data, "base64") };
}

/**
 * Parses a public key from an OpenSSH line (`ssh-ed25519 AAAA… [comment]`) or a wire blob.
 * The line's type must match the blob's; the blob must be canonical (ssh2 re-encodes it to the
 * same bytes), so two encodings of one key cannot get different fingerprints. An RSA key outside
 * the bounds of rsa-limits.ts is `unsupported`, refused before anything can verify with it.
 */
export function parsePublicKey(input: string | Uint8Array, fail: PublicKeyFailure): PublicKey {
  const line = typeof input === "string" ? blobOfLine(input, fail) : undefined;
  const blob = line?.blob ?? Buffer.from(input as Uint8Array);
  const type = createSshReader(blob, (reason) =>
    fail(`key blob: ${reason}`, "malformed"),
  ).readText();
  if (!isSupportedKeyType(type))
    throw fail(`key type ${quoted(type)} is not supported`, "unsupported");
  if (line !== undefined && line.type !== type) {
    throw fail(`key line type ${line.type} does not match its blob type ${type}`, "malformed");
  }
  if (type === "ssh-rsa") {
    const problem = rsaKeyProblem(blob, (reason) => fail(`key blob: ${reason}`, "malformed"));
    if (problem !== undefined) throw fail(problem, "unsupported");
  }
  const parsed = ssh2.utils.parseKey(blob);
  if (parsed instanceof Error || Array.isArray(parsed) || !parsed.getPublicSSH().equals(blob)) {
    throw fail(`key blob of type ${type} does not parse`, "malformed");
  }
  return { type, blob, parsed };
}

/** The public half of a parsed ssh2 key (a private key file, an agent identity). */
export function publicKeyOf(parsed: ParsedKey, fail: PublicKeyFailure): PublicKey {
  return parsePublicKey(parsed.getPublicSSH(), fail);
}

/** The OpenSSH line `type base64 [comment]`, as in a `.pub` file or authorized_keys. */
export function formatPublicKey(key: PublicKey, comment?: string): string {
  const line = `${key.type} ${key.blob.toString("base64")}`;
  return comment ? `${line} ${comment}` : line;
}

/** True when both are the same key (same wire blob). */
export function samePublicKey(a: PublicKey, b: PublicKey): boolean {
  return a.blob.equals(b.blob);
}
