// OpenSSH authorized_keys files: which keys may log in, and from where. Each line is a comment, a
// blank, or `[options] type base64 [comment]`; a malformed line is an error (strict) or a
// warning and skipped (lenient, the server's choice: one bad line must not lock everyone out).

import { readFile } from "node:fs/promises";
import { createError, describeError, type SynclineError } from "../../protocol/errors.js";
import {
  type AuthorizedKeyOptions,
  interpretKeyOptions,
  type RawKeyOption,
  tokenizeKeyOptions,
} from "./authorized-key-options.js";
import { fingerprintOf } from "./fingerprint.js";
import { keyUserOf } from "./key-user.js";
import { type PublicKey, parsePublicKey } from "./public-key.js";

/** One usable line of an authorized_keys file. */
export interface AuthorizedKey {
  /** The public key. */
  readonly key: PublicKey;
  /** Its fingerprint, `SHA256:…` as `ssh-keygen -lf` prints it. */
  readonly fingerprint: string;
  /** The text after the key (often `user@host`); empty when none. */
  readonly comment: string;
  /** The options prefix, interpreted. */
  readonly options: AuthorizedKeyOptions;
  /** The user the key belongs to (`syncline-user="…"`); undefined: the default user. */
  readonly user: string | undefined;
  /** The file (or other source) the line came from. */
  readonly source: string;
  /** The 1-based line number. */
  readonly line: number;
}

/** How to parse. */
export interface AuthorizedKeysOptions {
  /** Names the input in messages, usually the file path. Default `authorized_keys`. */
  readonly source?: string;
  /** Throw on the first malformed line (true, the default) or skip it with a warning (false). */
  readonly strict?: boolean;
}

/** The parse result. */
export interface AuthorizedKeys {
  /** The usable lines, in file order. */
  readonly entries: readonly AuthorizedKey[];
  /** One ERR_AUTHORIZED_KEYS error per skipped line (lenient mode), naming file and line. */
  readonly warnings: readonly SynclineError[];
}

// Any of these first words means the line has no options prefix (options never start so).
const keyTypePrefix = /^(ssh-|ecdsa-|sk-)/;

function parseLine(text: string): { key: PublicKey; comment: string; raw: RawKeyOption[] } {
  const firstWord = text.split(/\s/, 1)[0] ?? "";
  const { options: raw, rest } = keyTypePrefix.test(firstWord)
    ? { options: [], rest: text }
    : tokenizeKeyOptions(text);
  const [, type = "", data = "", comment = ""] = /^(\S+)\s+(\S+)\s*(.*)$/.exec(rest) ?? [];
  if (type === "") {
    throw new Error(
      raw.length > 0 ? "no key after the options" : 'expected "type base64 [comment]"',
    );
  }
  const key = parsePublicKey(`${type} ${data}`, (reason) => new Error(reason));
  return { key, comment: comment.trim(), raw };
}

/** Parses authorized_keys text; see `AuthorizedKeysOptions` for strict and lenient handling. */
export function parseAuthorizedKeys(
  text: string,
  options: AuthorizedKeysOptions = {},
): AuthorizedKeys {
  const source = options.source ?? "authorized_keys";
  const entries: AuthorizedKey[] = [];
  const warnings: SynclineError[] = [];
  const lines = text.split(/\r?\n/);
  for (const [index, lineText] of lines.entries()) {
    const trimmed = lineText.trim();
    if (trimmed === "" || trimmed.startsWith("#")) continue;
    const line = index + 1;
    try {
      const { key, comment, raw } = parseLine(trimmed);
      const keyOptions = interpretKeyOptions(raw);
      entries.push({
        key,
        fingerprint: fingerprintOf(key),
        comment,
        options: keyOptions,
        user: keyUserOf(raw),
        source,
        line,
      });
    } catch (cause) {
      const error = createError(
        "ERR_AUTHORIZED_KEYS",
        `authorized_keys ${source} line ${line}: ${describeError(cause)}`,
        { cause },
      );
      if (options.strict ?? true) throw error;
      warnings.push(error);
    }
  }
  return { entries, warnings };
}

/** Reads and parses an authorized_keys file; ERR_AUTHORIZED_KEYS names the path when unreadable. */
export async function loadAuthorizedKeys(
  path: string,
  options: Omit<AuthorizedKeysOptions, "source"> = {},
): Promise<AuthorizedKeys> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (cause) {
    throw createError(
      "ERR_AUTHORIZED_KEYS",
      `authorized_keys ${path}: cannot read: ${describeError(cause)}`,
      {
        cause,
      },
    );
  }
  return parseAuthorizedKeys(text, { ...options, source: path });
}
