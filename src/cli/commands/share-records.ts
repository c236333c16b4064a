// The CLI's share records: one file, `$XDG_CONFIG_HOME/syncline/shares.json` (default
// `~/.config/syncline/shares.json`), mode 0600 in a 0700 directory, holding the secret of every
// share this user created. Written atomically (temporary file + rename) so a crash never leaves
// half a file; each change re-reads the file just before writing, which narrows (but, without a
// lock, does not close) the window in which two commands run at once could lose one's change.

import { chmodSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { createError, describeError } from "../../protocol/errors.js";

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
export function shareRecordsPath(env: Readonly<Record<string, string | undefined>>): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), ".config");
  return join(base, "syncline", "shares.json");
}

/** Reads, adds and removes share records in one file. */
export class ShareRecordStore {
  constructor(readonly path: string) {}

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
  add(record: ShareRecord): void {
    const others = this.list().filter(
      (r) => !(r.sessionID === record.sessionID && r.server === record.server),
    );
    this.#write([...others, record]);
  }

  /** Removes the record of `sessionID` on `server`; true if there was one. */
  remove(sessionID: string, server: string): boolean {
    const all = this.list();
    const kept = all.filter((r) => !(r.sessionID === sessionID && r.server === server));
    if (kept.length === all.length) return false;
    this.#write(kept);
    return true;
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

  #write(shares: ShareRecord[]): void {
    const content: RecordsFile = { version: 1, shares };
    const temporary = `${this.path}.${process.pid}.tmp`;
    try {
      mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
      writeFileSync(temporary, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600 });
      chmodSync(temporary, 0o600); // the umask can only narrow the mode; be explicit anyway
      renameSync(temporary, this.path);
    } catch (error) {
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
