// `syncline keys fingerprint [KEYFILE]`: the fingerprint of a key and the authorized_keys line
// that admits it — for KEYFILE (public or private), else for the identity send/recv would use.

import { readFile } from "node:fs/promises";
import ssh2 from "ssh2";
import { createError, describeError } from "../../protocol/errors.js";
import { fingerprintOf } from "../../transport/auth/fingerprint.js";
import { resolveIdentity } from "../../transport/auth/identity.js";
import { formatPublicKey, parsePublicKey } from "../../transport/auth/public-key.js";
import { createSshReader } from "../../transport/auth/ssh-reader.js";
import { type CliIo, writeJson } from "../io.js";

/** Prints `SHA256:… type source` and the authorized_keys line. */
export async function keysFingerprintCommand(
  keyFile: string | undefined,
  options: { json?: boolean },
  io: CliIo,
): Promise<void> {
  const { publicKey, source } = keyFile ? await publicKeyOfFile(keyFile) : await identityKey(io);
  const key = parsePublicKey(publicKey, (reason) =>
    createError("ERR_AUTH_KEY_FILE", `keys: ${source}: ${reason}`),
  );
  const fingerprint = fingerprintOf(key);
  const line = formatPublicKey(key, source);
  if (options.json) {
    writeJson(io, { ok: true, fingerprint, type: key.type, source, authorizedKeysLine: line });
    return;
  }
  io.stdout.write(`${fingerprint} ${key.type} ${source}\n${line}\n`);
}

async function publicKeyOfFile(path: string): Promise<{ publicKey: string; source: string }> {
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch (error) {
    throw createError("ERR_AUTH_KEY_FILE", `keys: cannot read ${path}: ${describeError(error)}`, {
      cause: error,
    });
  }
  const text = data.toString("utf8").trim();
  if (/^(ssh-|ecdsa-)/.test(text))
    return { publicKey: text.split(/\s+/).slice(0, 2).join(" "), source: path };
  // A private key: its public half, without asking for a passphrase. An OpenSSH key keeps it in
  // clear even when encrypted; ssh2 cannot parse an encrypted key without its passphrase, so
  // read the container's public key directly, as `ssh-keygen -lf` does.
  const clear = openSshPublicBlob(text);
  if (clear) return { publicKey: clear, source: path };
  const parsed = ssh2.utils.parseKey(data);
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (key instanceof Error && /passphrase/i.test(key.message)) {
    // An encrypted PEM key hides its public half: fall back to the .pub beside it, as ssh-keygen.
    const pub = await readFile(`${path}.pub`, "utf8").catch(() => undefined);
    if (pub !== undefined && /^(ssh-|ecdsa-)/.test(pub.trim()))
      return { publicKey: pub.trim().split(/\s+/).slice(0, 2).join(" "), source: path };
    throw createError(
      "ERR_AUTH_KEY_FILE",
      `keys: ${path} is encrypted and hides its public key; give its .pub file instead`,
    );
  }
  if (!key || key instanceof Error) {
    throw createError(
      "ERR_AUTH_KEY_FILE",
      `keys: ${path} is not an SSH key${key instanceof Error ? `: ${key.message}` : ""}`,
    );
  }
  return { publicKey: `${key.type} ${key.getPublicSSH().toString("base64")}`, source: path };
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

async function identityKey(io: CliIo): Promise<{ publicKey: string; source: string }> {
  const identity = await resolveIdentity({ env: io.env, interactive: false });
  return { publicKey: identity.publicKey, source: identity.source };
}
