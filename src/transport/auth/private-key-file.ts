// Loading a private key file (OpenSSH, PEM or PuTTY format, as ssh2 reads them) into a signer,
// asking for the passphrase of an encrypted key once: decrypting costs ~0.6 s of CPU (bcrypt).

import { readFile } from "node:fs/promises";
import ssh2, { type ParsedKey } from "ssh2";
import { createError, describeError } from "../../protocol/errors.js";
import { createKeySigner, type Signer } from "./signer.js";

/** Asks the user for the passphrase of the key file at `path` (on the terminal). */
export type AskPassphrase = (path: string) => Promise<string>;

/** How to get a passphrase for an encrypted key. */
export interface PassphraseOptions {
  /** Asks for a passphrase; without it an encrypted key fails with ERR_AUTH_PASSPHRASE. */
  readonly askPassphrase?: AskPassphrase;
  /**
   * False when nobody can answer (stdin is not a TTY: a service, a pipe): an encrypted key then
   * fails at once instead of waiting on a prompt. Default true.
   */
  readonly interactive?: boolean;
}

// ssh2 reports a missing passphrase only in its message ("…but no passphrase given"); ssh2 is
// pinned and a test covers this, so a wording change cannot slip by.
const needsPassphrase = /no passphrase given/i;

function firstKey(parsed: ParsedKey | ParsedKey[] | Error): ParsedKey | Error {
  if (!Array.isArray(parsed)) return parsed;
  return parsed[0] ?? new Error("the file holds no key");
}

async function decrypt(path: string, data: Buffer, options: PassphraseOptions): Promise<ParsedKey> {
  const { askPassphrase, interactive = true } = options;
  if (!askPassphrase || !interactive) {
    throw createError(
      "ERR_AUTH_PASSPHRASE",
      `identity ${path}: the key is encrypted and no passphrase can be asked (not a terminal); ` +
        `load it into ssh-agent (ssh-add ${path}) or use a key without a passphrase`,
    );
  }
  const passphrase = await askPassphrase(path);
  const parsed = firstKey(ssh2.utils.parseKey(data, passphrase));
  if (parsed instanceof Error) {
    throw createError("ERR_AUTH_PASSPHRASE", `identity ${path}: wrong passphrase`, {
      cause: parsed,
    });
  }
  return parsed;
}

/**
 * Reads the private key at `path` and returns a signer holding it (decrypted, when it was
 * encrypted: keep the signer rather than loading again). Errors name the file: ERR_AUTH_KEY_FILE
 * (unreadable, not a private key), ERR_AUTH_PASSPHRASE (no way to ask, or a wrong passphrase),
 * ERR_AUTH_ALGORITHM (a key type we do not accept, such as DSA).
 */
export async function loadPrivateKey(
  path: string,
  options: PassphraseOptions = {},
): Promise<Signer> {
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch (cause) {
    throw createError(
      "ERR_AUTH_KEY_FILE",
      `identity ${path}: cannot read: ${describeError(cause)}`,
      {
        cause,
      },
    );
  }
  const plain = firstKey(ssh2.utils.parseKey(data));
  let key: ParsedKey;
  if (!(plain instanceof Error)) {
    key = plain;
  } else if (needsPassphrase.test(plain.message)) {
    key = await decrypt(path, data, options);
  } else {
    throw createError(
      "ERR_AUTH_KEY_FILE",
      `identity ${path}: not a usable private key: ${plain.message}`,
      {
        cause: plain,
      },
    );
  }
  if (!key.isPrivateKey()) {
    throw createError(
      "ERR_AUTH_KEY_FILE",
      `identity ${path}: is a public key; give the private key file`,
    );
  }
  return createKeySigner(key, path);
}
