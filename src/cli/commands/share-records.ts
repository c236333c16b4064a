// The CLI's share records: one file, `$XDG_CONFIG_HOME/syncline/shares.json` (default
// `~/.config/syncline/shares.json`), mode 0600 in a 0700 directory, holding the secret of every
// share this user created. Every change is a read-modify-write under `shares.json.lock`
// (file-lock.ts), so two commands run at once never lose each other's record (a lost record is a
// lost secret); the write is atomic (fsynced temporary file + rename), so a crash never leaves
// half a file and reads need no lock.

import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { createError, describeError, isSynclineError } from "../../protocol/errors.js";
import { writeFileAtomically } from "../atomic-file.js";
import { type ConfigEnv, configDir, ensureFolderOf } from "../config-dir.js";
import { type FileLockOptions, type HeldFileLock, withFileLock } from "../file-lock.js";

/** One share this user created. */
export interface ShareRecord {
  /** The full session id given to `share create`. */
  readonly sessionID: string;
  /** The share id (the session id's last 8 characters). */
  readonly id: string;
  /** The share secret (sync, delete); shown once by `share create`. */
  readonly secret: string;
  /** The server's http(s):// base URL, as `httpBaseUrl` normalizes it. */
  readonly server: string;
  /** The viewer URL the server answered. */
  readonly url: string;
  /** When the share was created (ISO 8601). */
  readonly createdAt: string;
}

/** The file's shape: `{version: 1, shares: ShareRecord[]}`. */
interface RecordsFile {
  readonly version: 1;
  readonly shares: ShareRecord[];
}

/** The records file's path for this environment (XDG_CONFIG_HOME, else HOME/.config). */
export function shareRecordsPath(env: ConfigEnv): string {
  return join(configDir(env), "shares.json");
}

/** Reads, adds and removes share records in one file. */
export class ShareRecordStore {
  /**
   * @param path the records file (`shareRecordsPath`).
   * @param lockOptions how long a change waits for the lock and when a lock is stale (the
   *   defaults of `withFileLock`: 10 s, 30 s).
   */
  constructor(
    readonly path: string,
    readonly lockOptions: Omit<FileLockOptions, "context"> = {},
  ) {}

  /** The lock file every change holds: `shares.json.lock` next to the records. */
  get lockPath(): string {
    return `${this.path}.lock`;
  }

  /** Every record; an absent file is an empty list. */
  list(): ShareRecord[] {
    let text: string;
    try {
      text = readFileSync(this.path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw recordError(`share records: cannot read ${this.path}: ${describeError(error)}`, error);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw recordError(`share records: ${this.path} is not JSON: ${describeError(error)}`, error);
    }
    const shares = (parsed as Partial<RecordsFile> | null)?.shares;
    if (!Array.isArray(shares)) {
      throw recordError(`share records: ${this.path} has no "shares" list`);
    }
    return shares.filter(isRecord);
  }

  /** The records of `sessionID`, on `server` when given. */
  find(sessionID: string, server?: string): ShareRecord[] {
    return this.list().filter(
      (record) =>
        record.sessionID === sessionID && (server === undefined || record.server === server),
    );
  }

  /** Adds `record`, replacing one of the same session on the same server. */
  async add(record: ShareRecord): Promise<void> {
    await this.#update((all) => [
      ...all.filter((r) => !(r.sessionID === record.sessionID && r.server === record.server)),
      record,
    ]);
  }

  /**
   * Removes the record of `sessionID` on `server` — only if its secret is still `secret`, when
   * given, so forgetting a refused secret never drops a newer record another command stored
   * meanwhile. True if a record was removed.
   */
  async remove(sessionID: string, server: string, secret?: string): Promise<boolean> {
    let removed = false;
    await this.#update((all) => {
      const kept = all.filter(
        (r) =>
          !(
            r.sessionID === sessionID &&
            r.server === server &&
            (secret === undefined || r.secret === secret)
          ),
      );
      removed = kept.length < all.length;
      return removed ? kept : undefined;
    });
    return removed;
  }

  /** A warning when the file can be read by others (it holds secrets), else undefined. */
  permissionWarning(): string | undefined {
    try {
      const mode = statSync(this.path).mode & 0o777;
      if ((mode & 0o077) === 0) return undefined;
      return `share records: ${this.path} has mode ${mode.toString(8)}; it holds secrets, run chmod 600 ${this.path}`;
    } catch {
      return undefined;
    }
  }

  /** Applies `change` to the records read under the lock; undefined from it writes nothing. */
  async #update(change: (all: ShareRecord[]) => ShareRecord[] | undefined): Promise<void> {
    try {
      ensureFolderOf(this.path, "share records");
    } catch (error) {
      throw recordError(describeError(error), error);
    }
    await withFileLock(
      this.lockPath,
      (lock) => {
        const next = change(this.list());
        if (next !== undefined) this.#write(next, lock);
      },
      { ...this.lockOptions, context: `share records: ${this.path}` },
    );
  }

  /** Replaces the file atomically: a fsynced 0600 temporary file renamed over it. */
  #write(shares: ShareRecord[], lock: HeldFileLock): void {
    const content: RecordsFile = { version: 1, shares };
    try {
      // A holder that stalled past the stale limit must not overwrite newer data.
      writeFileAtomically(this.path, `${JSON.stringify(content, null, 2)}\n`, () =>
        lock.assertHeld(),
      );
    } catch (error) {
      if (isSynclineError(error, "ERR_FILE_LOCKED")) throw error;
      throw recordError(`share records: cannot write ${this.path}: ${describeError(error)}`, error);
    }
  }
}

function isRecord(value: unknown): value is ShareRecord {
  const record = value as Partial<ShareRecord> | null;
  return (
    typeof record === "object" &&
    record !== null &&
    typeof record.sessionID === "string" &&
    typeof record.id === "string" &&
    typeof record.secret === "string" &&
    typeof record.server === "string"
  );
}

function recordError(message: string, cause?: unknown) {
  return createError("ERR_SHARE_RECORD", message, cause === undefined ? {} : { cause });
}
