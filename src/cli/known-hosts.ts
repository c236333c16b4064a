// Trust on first use for `send` and `recv`, as OpenSSH's known_hosts: the first time a server is
// met its host key is recorded in `$XDG_CONFIG_HOME/syncline/known_hosts`, keyed by `host:port`
// (or `unix:/socket/path`); from then on a server at that address with another key is refused,
// saying which line to remove if the key was rotated on purpose. The file is only ever replaced
// whole (a fsynced temporary file renamed over it) under `known_hosts.lock`, so two commands
// meeting servers at once keep both records and a reader never sees half a file.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createError, describeError } from "../protocol/errors.js";
import { fingerprintOf } from "../transport/auth/fingerprint.js";
import { parsePublicKey } from "../transport/auth/public-key.js";
import { describeAddress, type ServerAddress } from "../transport/server-address.js";
import type { ServerHostKey } from "../transport/wire-dial.js";
import { writeFileAtomically } from "./atomic-file.js";
import { type ConfigEnv, configDir, ensureFolderOf } from "./config-dir.js";
import { type FileLockOptions, withFileLock } from "./file-lock.js";

/** The known_hosts path for this environment. */
export function knownHostsPath(env: ConfigEnv): string {
  return join(configDir(env), "known_hosts");
}

/**
 * The name a server is recorded under: `host:port` with the scheme's default port written out
 * (ws:// and wss:// to one port are one server), or `unix:/absolute/socket/path`.
 */
export function knownHostName(address: ServerAddress): string {
  if (address.kind === "unix") return `unix:${address.path}`;
  const url = new URL(`${address.secure ? "https" : "http"}://${address.host}`);
  const port = url.port || (address.secure ? "443" : "80");
  return `${url.hostname.toLowerCase()}:${port}`;
}

/** One recorded key: the line it is on (1-based) and the key, `type base64`. */
interface KnownKey {
  readonly line: number;
  readonly publicKey: string;
}

/** What `check` did: the key was on record, or it was recorded now (first contact). */
export type KnownHostsOutcome = "known" | "added";

/** The known_hosts file: `host type base64` per line; `#` comments and blank lines kept. */
export class KnownHosts {
  constructor(
    readonly path: string,
    readonly lockOptions: Omit<FileLockOptions, "context"> = {},
  ) {}

  /**
   * Checks `host` (a server's verified host key) against the record for its address: "known"
   * when it matches a line, ERR_AUTH_HOST_KEY when the address has lines and none matches, else
   * records it (under the lock, re-reading first) and says "added".
   */
  async check(host: ServerHostKey): Promise<KnownHostsOutcome> {
    const name = knownHostName(host.address);
    if (this.#compare(this.#read(), name, host) === "known") return "known";
    ensureFolderOf(this.path, "known_hosts");
    return withFileLock(
      `${this.path}.lock`,
      (lock) => {
        const text = this.#read();
        if (this.#compare(text, name, host) === "known") return "known";
        const separator = text === "" || text.endsWith("\n") ? "" : "\n";
        const content = `${text}${separator}${name} ${host.publicKey}\n`;
        try {
          writeFileAtomically(this.path, content, () => lock.assertHeld());
        } catch (error) {
          if ((error as { code?: unknown }).code === "ERR_FILE_LOCKED") throw error;
          throw localError(
            `known_hosts: cannot write ${this.path}: ${describeError(error)}`,
            error,
          );
        }
        return "added";
      },
      { ...this.lockOptions, context: `known_hosts ${this.path}` },
    );
  }

  /** "known", "unknown", or ERR_AUTH_HOST_KEY when the address is on record with other keys. */
  #compare(text: string, name: string, host: ServerHostKey): "known" | "unknown" {
    const recorded = keysOf(text, name);
    if (recorded.length === 0) return "unknown";
    if (recorded.some((known) => known.publicKey === host.publicKey)) return "known";
    throw this.#changed(host, recorded[0] as KnownKey, name);
  }

  #changed(host: ServerHostKey, recorded: KnownKey, name: string) {
    const where = `line ${recorded.line} of ${this.path}`;
    return createError(
      "ERR_AUTH_HOST_KEY",
      `the host key of ${describeAddress(host.address)} has changed: the server presented ` +
        `${host.fingerprint}, but ${where} records ${fingerprintOfLine(recorded.publicKey)} for ` +
        `${name}. Someone may be impersonating the server (a man-in-the-middle), or its host key ` +
        `was replaced. If you rotated it on purpose (check the fingerprint the server prints at ` +
        `start), remove ${where} and connect again; nothing was sent`,
    );
  }

  /** The file's text; empty when it does not exist yet. */
  #read(): string {
    try {
      return readFileSync(this.path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return "";
      throw localError(`known_hosts: cannot read ${this.path}: ${describeError(error)}`, error);
    }
  }
}

/** The keys recorded for `name`, in file order; lines that are not `host type base64` are left. */
function keysOf(text: string, name: string): KnownKey[] {
  const keys: KnownKey[] = [];
  for (const [index, raw] of text.split("\n").entries()) {
    const [host, type, base64] = raw.trim().split(/\s+/);
    if (host !== name || type === undefined || base64 === undefined) continue;
    keys.push({ line: index + 1, publicKey: `${type} ${base64}` });
  }
  return keys;
}

/** The fingerprint of a recorded `type base64` key, or the line itself when it does not parse. */
function fingerprintOfLine(publicKey: string): string {
  try {
    return fingerprintOf(parsePublicKey(publicKey, (reason) => new Error(reason)));
  } catch {
    return `"${publicKey.slice(0, 40)}…"`;
  }
}

function localError(message: string, cause: unknown) {
  return createError("ERR_LOCAL_FILE", message, { cause });
}
