// `syncline keys fingerprint [KEYFILE]`: the fingerprint of a key and the authorized_keys line
// that admits it — for KEYFILE (public or private), else for the identity send/recv would try
// first, with this device's name (--device-name, else the host name). The line keeps the key's own comment (`user@host`), as `ssh-keygen` and `ssh-add -L`
// print it; a key without one gets its file's path, so an administrator can tell lines apart.

import { createError } from "../../protocol/errors.js";
import { fingerprintOf } from "../../transport/auth/fingerprint.js";
import { resolveIdentity } from "../../transport/auth/identity.js";
import { formatPublicKey, parsePublicKey } from "../../transport/auth/public-key.js";
import { readPublicKeyOfFile } from "../../transport/auth/public-key-file.js";
import { type CliIo, writeJson } from "../io.js";
import { printable } from "../terminal-text.js";
import { deviceName } from "../transport-options.js";

/** Prints `SHA256:… type source` and the authorized_keys line. */
export async function keysFingerprintCommand(
  keyFile: string | undefined,
  options: { json?: boolean; deviceName?: string; config?: string },
  io: CliIo,
): Promise<void> {
  // Shown beside the fingerprint, so that a user tells their devices' keys apart; the
  // authorized_keys line keeps the key's own comment.
  const device = deviceName(options, io);
  const { publicKey, source, comment } = keyFile
    ? await publicKeyOfFile(keyFile)
    : await identityKey(io);
  const key = parsePublicKey(publicKey, (reason) =>
    createError("ERR_AUTH_KEY_FILE", `keys: ${source}: ${reason}`),
  );
  const fingerprint = fingerprintOf(key);
  const line = formatPublicKey(key, comment);
  if (options.json) {
    writeJson(io, {
      ok: true,
      fingerprint,
      type: key.type,
      source,
      device,
      authorizedKeysLine: line,
    });
    return;
  }
  io.stdout.write(`${fingerprint} ${key.type} ${source} (device ${printable(device)})\n${line}\n`);
}

async function publicKeyOfFile(
  path: string,
): Promise<{ publicKey: string; source: string; comment: string }> {
  const { publicKey, comment } = await readPublicKeyOfFile(path, "keys");
  return { publicKey, source: path, comment: comment || path };
}

async function identityKey(
  io: CliIo,
): Promise<{ publicKey: string; source: string; comment: string }> {
  const identity = await resolveIdentity({ env: io.env, interactive: false });
  const fromFile = !identity.source.startsWith("ssh-agent ");
  return {
    publicKey: identity.publicKey,
    source: identity.source,
    comment: identity.comment || (fromFile ? identity.source : ""),
  };
}
