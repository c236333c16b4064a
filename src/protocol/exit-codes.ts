// The CLI's exit codes: what a script can tell from `$?`. Each error code's exit code is in the
// error table (error-table.ts); docs/errors.md is generated from both.

/** Every exit code a syncline command ends with. */
export const exitCodes = {
  ok: 0,
  unexpected: 1,
  usage: 2,
  cannotConnect: 3,
  protocol: 4,
  documentUnavailable: 5,
  syncDisabled: 6,
  timedOut: 7,
  authRefused: 8,
  cannotStart: 9,
  /** `send`: the payload reached the server, but no receiver got it and it was not kept. */
  notDelivered: 10,
  /** 128 + SIGINT, as shells report a process that SIGINT ended. */
  interrupted: 130,
  /** 128 + SIGTERM. */
  terminated: 143,
} as const;

/** An exit code from `exitCodes`. */
export type ExitCode = (typeof exitCodes)[keyof typeof exitCodes];

/** What each exit code tells a script, for --help and docs/errors.md. */
export const exitCodeMeanings: Readonly<Record<ExitCode, string>> = {
  0: "success (`share watch`: the share was deleted, or Ctrl-C ended the watch)",
  1: "unexpected error",
  2: "usage: unknown command or flag, invalid value, unreadable or invalid config file, bad local file or key",
  3: "cannot connect (after the retries), or the server refused the connection",
  4: "protocol error (version mismatch, invalid server message)",
  5: "not found on the server: `sync` a document it does not have (and no local copy), `share` no such share",
  6: "sync disabled in the config",
  7: "timed out (`--timeout`)",
  8: "authentication refused by the server (token, share secret, SSH key), or its host key is not the pinned one or the one known_hosts recorded",
  9: "the server cannot start: address in use, data directory locked, TLS files unusable, store unopenable",
  10: "`send`: the server got the payload, but no receiver did and the server did not keep it",
  130: "interrupted by SIGINT (Ctrl-C) before the command finished",
  143: "interrupted by SIGTERM before the command finished",
};

/** The exit code of a command stopped by `signal`: 128 + its number (130 SIGINT, 143 SIGTERM). */
export function exitCodeOfSignal(signal: string): ExitCode {
  return signal === "SIGTERM" ? exitCodes.terminated : exitCodes.interrupted;
}
