// The server's authorized_keys file, watched: read at start (a missing or unreadable file stops
// the start), then re-read on the next handshake after it changes, so adding a device needs no
// restart. A file that goes missing or unreadable while the server runs fails closed: every key
// is refused until it can be read again, since keeping the last keys would keep admitting a
// device whose line an administrator just removed along with the file.

import { readFileSync, statSync } from "node:fs";
import type { Logger } from "pino";
import { createError, describeError } from "../protocol/errors.js";
import { type AuthorizedKey, parseAuthorizedKeys } from "../transport/auth/authorized-keys.js";

/** The current entries of the file; empty while it cannot be read. */
export type AuthorizedKeysSource = () => readonly AuthorizedKey[];

/**
 * Loads `path` (throwing ERR_AUTHORIZED_KEYS when it cannot be read: exit 9 at start) and returns
 * the getter the handshake calls. Malformed lines are skipped with a warning each, `command=`
 * lines are warned about (their keys are refused), and a file with no key is warned about at
 * start and on reload: every connection is then refused, and a refused client cannot tell why.
 */
export function watchAuthorizedKeys(path: string, logger: Logger): AuthorizedKeysSource {
  let version = versionOf(path);
  let entries = load(path, logger);
  let failure: string | undefined;
  return () => {
    try {
      const now = versionOf(path);
      if (now !== version || failure !== undefined) {
        entries = load(path, logger);
        version = now;
        if (failure !== undefined) {
          logger.warn({ path, keys: entries.length }, `authorized_keys ${path} can be read again`);
        } else {
          logger.info({ path, keys: entries.length }, "authorized_keys reloaded");
        }
        failure = undefined;
      }
      return entries;
    } catch (error) {
      // Logged once per failure, not on every refused handshake.
      const reason = describeError(error);
      if (failure !== reason) {
        logger.error(
          { path, reason },
          `authorized_keys ${path} cannot be read: refusing every /wire connection until it can`,
        );
      }
      failure = reason;
      entries = [];
      return entries;
    }
  };
}

/** What changes when the file is edited or replaced: its inode, size and modification time. */
function versionOf(path: string): string {
  try {
    const stats = statSync(path);
    return `${stats.ino}:${stats.size}:${stats.mtimeMs}`;
  } catch (error) {
    throw unreadable(path, error);
  }
}

function load(path: string, logger: Logger): readonly AuthorizedKey[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw unreadable(path, error);
  }
  const parsed = parseAuthorizedKeys(text, { source: path, strict: false });
  for (const warning of parsed.warnings) logger.warn({ err: warning.code }, warning.message);
  for (const entry of parsed.entries) {
    if (entry.options.command === undefined) continue;
    logger.warn(
      { path, line: entry.line, key: entry.fingerprint },
      `authorized_keys ${path} line ${entry.line}: command= confines a key to one command, which syncline cannot do: key ${entry.fingerprint} will be refused`,
    );
  }
  warnKeysOfTwoUsers(parsed.entries, path, logger);
  if (parsed.entries.length === 0) {
    logger.warn(
      { path },
      `authorized_keys ${path} lists no keys: every /wire connection will be refused`,
    );
  }
  return parsed.entries;
}

/**
 * Warns about a key listed for two users: it logs in as the user of the first line that admits
 * it, which is rarely what the second line meant.
 */
function warnKeysOfTwoUsers(entries: readonly AuthorizedKey[], path: string, logger: Logger): void {
  const userOf = new Map<string, AuthorizedKey>();
  for (const entry of entries) {
    const first = userOf.get(entry.fingerprint);
    if (!first) userOf.set(entry.fingerprint, entry);
    else if (first.user !== entry.user) {
      logger.warn(
        { path, fingerprint: entry.fingerprint, lines: [first.line, entry.line] },
        `authorized_keys ${path}: key ${entry.fingerprint} is listed for two users (lines ${first.line} and ${entry.line}); it logs in as the first line's that admits it`,
      );
    }
  }
}

function unreadable(path: string, error: unknown) {
  return createError(
    "ERR_AUTHORIZED_KEYS",
    `authorized_keys ${path}: cannot read: ${describeError(error)}`,
    { cause: error },
  );
}
