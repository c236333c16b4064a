// The options prefix of an authorized_keys line (`no-pty,from="10.0.0.*",command="echo \"hi\""`),
// tokenized as sshd does: comma-separated, names case-insensitive, values in double quotes where
// only `\"` is an escape, and the prefix ends at the first unquoted whitespace.

import { checkFromPattern } from "./matches-from.js";

/** One option as written: `name` lower-cased, `value` unquoted (absent for flags). */
export interface RawKeyOption {
  readonly name: string;
  readonly value?: string;
}

/**
 * The options of an authorized_keys line. `from=` and `expiry-time=` limit when the key is
 * admitted; `command=` refuses the key (sshd would confine it to one command, which syncline
 * cannot do, and admitting it fully would grant more than the line allows). The rest restrict or
 * allow what syncline never offers (a pty, forwarding, ~/.ssh/rc, a tunnel, an environment), so
 * they change nothing; docs/operations.md has the table.
 */
export interface AuthorizedKeyOptions {
  /** `from="…"` patterns (see `matchesFrom`); absent: any address. */
  readonly from?: readonly string[];
  /** `restrict` was given. It forbids only what syncline never grants; kept for reporting. */
  readonly restrict: boolean;
  /** `command="…"`: the key is refused (see above). */
  readonly command?: string;
  /** `expiry-time="…"` as epoch ms: the key is refused from then on. */
  readonly expiresAt?: number;
  /** Every option in order, including repeats (`permitopen`, `environment`). */
  readonly raw: readonly RawKeyOption[];
}

// sshd's option names (auth-options.c); an unknown name makes sshd refuse the line, and so do we.
const flagOptions = new Set([
  "agent-forwarding",
  "no-agent-forwarding",
  "port-forwarding",
  "no-port-forwarding",
  "pty",
  "no-pty",
  "user-rc",
  "no-user-rc",
  "x11-forwarding",
  "no-x11-forwarding",
  "no-touch-required",
  "verify-required",
  "restrict",
]);
const valueOptions = new Set([
  "command",
  "environment",
  "expiry-time",
  "from",
  "permitlisten",
  "permitopen",
  "tunnel",
  "syncline-user", // ours: the user the key belongs to (key-user.ts)
]);

/** Splits `text` into the options prefix and the rest (the key), or throws a reason string. */
export function tokenizeKeyOptions(text: string): { options: RawKeyOption[]; rest: string } {
  const options: RawKeyOption[] = [];
  let i = 0;
  for (;;) {
    const name = /^[A-Za-z0-9-]*/.exec(text.slice(i))?.[0] ?? "";
    if (name === "") throw new Error(`expected an option name at column ${i + 1}`);
    i += name.length;
    let value: string | undefined;
    if (text[i] === "=") {
      if (text[i + 1] !== '"') throw new Error(`option "${name}" value must be in double quotes`);
      value = "";
      for (i += 2; i < text.length && text[i] !== '"'; i++) {
        if (text[i] === "\\" && text[i + 1] === '"') i++;
        value += text[i];
      }
      if (i >= text.length) throw new Error(`option "${name}" value has no closing quote`);
      i++;
    }
    options.push(
      value === undefined ? { name: name.toLowerCase() } : { name: name.toLowerCase(), value },
    );
    if (text[i] === ",") {
      i++;
    } else if (text[i] === " " || text[i] === "\t") {
      return { options, rest: text.slice(i).trimStart() };
    } else {
      throw new Error(
        i >= text.length
          ? "options are not followed by a key"
          : `unexpected "${text[i]}" at column ${i + 1}`,
      );
    }
  }
}

/**
 * Parses `expiry-time` as sshd does: `YYYYMMDD[HHMM[SS]]`, local time unless it ends in `Z`.
 * Returns epoch ms, or undefined when malformed.
 */
export function parseExpiryTime(value: string): number | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})?)?(Z?)$/i.exec(value);
  if (!match) return undefined;
  const [y = 0, mo = 1, d = 1, h = 0, mi = 0, s = 0] = match
    .slice(1, 7)
    .map((part) => (part === undefined ? undefined : Number(part)));
  const utc = match[7] !== "";
  const date = utc ? new Date(Date.UTC(y, mo - 1, d, h, mi, s)) : new Date(y, mo - 1, d, h, mi, s);
  const month = utc ? date.getUTCMonth() : date.getMonth();
  const day = utc ? date.getUTCDate() : date.getDate();
  // Date rolls 20240230 over into March; sshd's strptime refuses it, so do we.
  const valid = month === mo - 1 && day === d && h < 24 && mi < 60 && s < 61;
  return valid ? date.getTime() : undefined;
}

function checkOption(option: RawKeyOption): void {
  const { name, value } = option;
  if (name === "cert-authority" || name === "principals") {
    throw new Error(`option "${name}": certificate authorities are not supported`);
  }
  if (flagOptions.has(name)) {
    if (value !== undefined) throw new Error(`option "${name}" takes no value`);
  } else if (valueOptions.has(name)) {
    if (value === undefined) throw new Error(`option "${name}" needs a value`);
  } else {
    throw new Error(`unknown option "${name}"`);
  }
}

/** Checks and interprets tokenized options; throws an Error whose message is the reason. */
export function interpretKeyOptions(raw: readonly RawKeyOption[]): AuthorizedKeyOptions {
  let from: string[] | undefined;
  let command: string | undefined;
  let expiresAt: number | undefined;
  for (const option of raw) {
    checkOption(option);
    const value = option.value ?? "";
    if (option.name === "from") {
      // Repeated from= options must all match in sshd; joining the lists would loosen that.
      if (from !== undefined) throw new Error('option "from" given twice');
      from = value.split(",");
      const problem = from.map(checkFromPattern).find((reason) => reason !== undefined);
      if (problem) throw new Error(`option "from": ${problem}`);
    } else if (option.name === "command") {
      command = value;
    } else if (option.name === "expiry-time") {
      const at = parseExpiryTime(value);
      if (at === undefined)
        throw new Error(`option "expiry-time" value "${value}" is not YYYYMMDD[HHMM[SS]][Z]`);
      expiresAt = Math.min(at, expiresAt ?? at);
    }
  }
  const restrict = raw.some((option) => option.name === "restrict");
  return {
    restrict,
    raw,
    ...(from && { from }),
    ...(command !== undefined && { command }),
    ...(expiresAt !== undefined && { expiresAt }),
  };
}
