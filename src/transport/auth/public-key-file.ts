// The public half of a key file, public or private, read without a passphrase — as
// `ssh-keygen -lf` and `ssh -i` do — with the key's own comment: to find the key in ssh-agent,
// and to print the authorized_keys line that admits it.

import { readFile } from "node:fs/promises";
import ssh2 from "ssh2";
import { createError, describeError } from "../../protocol/errors.js";
import { createSshReader } from "./ssh-reader.js";

/** A key file's public half. */
export interface PublicKeyOfFile {
  /** `type base64`, without a comment. */
  readonly publicKey: string;
  /** The key's own comment (often `user@host`); empty when the file has none. */
  readonly comment: string;
  /** True when the file itself is a public key (a `.pub` file): it cannot sign. */
  readonly isPublic: boolean;
}

const publicLinePattern = /^(ssh-|ecdsa-)/;

/**
 * Reads the public key of `path`: a `.pub` line, an OpenSSH private key (whose public half is in
 * clear even when encrypted), or another private key ssh2 reads; an encrypted key that hides its
 * public half falls back to the `.pub` beside it. ERR_AUTH_KEY_FILE names the file, `context`
 * first (`keys`, `identity`).
 */
export async function readPublicKeyOfFile(path: string, context: string): Promise<PublicKeyOfFile> {
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch (error) {
    throw createError(
      "ERR_AUTH_KEY_FILE",
      `${context}: cannot read ${path}: ${describeError(error)}`,
      {
        cause: error,
      },
    );
  }
  const text = data.toString("utf8").trim();
  if (publicLinePattern.test(text)) return { ...splitPublicLine(text), isPublic: true };
  const besideComment = async () => (await readPublicLine(`${path}.pub`))?.comment ?? "";
  const parsed = ssh2.utils.parseKey(data);
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (key && !(key instanceof Error)) {
    const publicKey = `${key.type} ${key.getPublicSSH().toString("base64")}`;
    return { publicKey, comment: key.comment || (await besideComment()), isPublic: false };
  }
  // Encrypted: an OpenSSH key keeps its public half in clear; another format hides it, and
  // then only the .pub beside it tells, as with ssh-keygen.
  const clear = openSshPublicBlob(text);
  if (clear) return { publicKey: clear, comment: await besideComment(), isPublic: false };
  if (key instanceof Error && /passphrase/i.test(key.message)) {
    const beside = await readPublicLine(`${path}.pub`);
    if (beside) return { ...beside, isPublic: false };
    throw createError(
      "ERR_AUTH_KEY_FILE",
      `${context}: ${path} is encrypted and hides its public key; give its .pub file instead`,
    );
  }
  throw createError(
    "ERR_AUTH_KEY_FILE",
    `${context}: ${path} is not an SSH key${key instanceof Error ? `: ${key.message}` : ""}`,
  );
}

function splitPublicLine(line: string): { publicKey: string; comment: string } {
  const [type = "", base64 = "", ...rest] = line.split(/\s+/);
  return { publicKey: `${type} ${base64}`, comment: rest.join(" ") };
}

async function readPublicLine(
  path: string,
): Promise<{ publicKey: string; comment: string } | undefined> {
  const text = await readFile(path, "utf8").catch(() => undefined);
  const line = text?.trim();
  return line !== undefined && publicLinePattern.test(line) ? splitPublicLine(line) : undefined;
}

const openSshPem =
  /-----BEGIN OPENSSH PRIVATE KEY-----([A-Za-z0-9+/=\s]+)-----END OPENSSH PRIVATE KEY-----/;
const openSshMagic = Buffer.from("openssh-key-v1\0", "latin1");

/**
 * The first public key of an OpenSSH private key file (`openssh-key-v1`: magic, cipher, kdf,
 * kdf options, key count, then the public key blobs in clear), as a `type base64` line; undefined
 * when `text` is not that format or is malformed (the caller then reports the file as no key).
 */
function openSshPublicBlob(text: string): string | undefined {
  const body = openSshPem.exec(text)?.[1];
  if (body === undefined) return undefined;
  const bytes = Buffer.from(body.replace(/\s+/g, ""), "base64");
  if (!bytes.subarray(0, openSshMagic.length).equals(openSshMagic)) return undefined;
  try {
    const reader = createSshReader(
      bytes.subarray(openSshMagic.length),
      (reason) => new Error(reason),
    );
    reader.readString(); // cipher name
    reader.readString(); // kdf name
    reader.readString(); // kdf options
    if (reader.readU32() < 1) return undefined;
    const blob = reader.readString();
    const type = createSshReader(blob, (reason) => new Error(reason)).readText();
    return `${type} ${blob.toString("base64")}`;
  } catch {
    return undefined;
  }
}
