// `syncline keys fingerprint [KEYFILE]`: the fingerprint of a key and the authorized_keys line
// that admits it — for KEYFILE (public or private), else for the identity send/recv would use.

import { readFile } from "node:fs/promises";
import ssh2 from "ssh2";
import { createError, describeError } from "../../protocol/errors.js";
import { fingerprintOf } from "../../transport/auth/fingerprint.js";
import { resolveIdentity } from "../../transport/auth/identity.js";
import { formatPublicKey, parsePublicKey } from "../../transport/auth/public-key.js";
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
  // A private key: its public half, without asking for a passphrase (OpenSSH keeps it in clear).
  const parsed = ssh2.utils.parseKey(data);
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key || key instanceof Error) {
    throw createError(
      "ERR_AUTH_KEY_FILE",
      `keys: ${path} is not an SSH key${key instanceof Error ? `: ${key.message}` : ""}`,
    );
  }
  return { publicKey: `${key.type} ${key.getPublicSSH().toString("base64")}`, source: path };
}

async function identityKey(io: CliIo): Promise<{ publicKey: string; source: string }> {
  const identity = await resolveIdentity({ env: io.env, interactive: false });
  return { publicKey: identity.publicKey, source: identity.source };
}
