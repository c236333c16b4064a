// The connection options every client command shares, resolved the same way: the server address
// (ws, wss, http(s) or unix:), the extra CAs of --ca, --retries announced on stderr as they
// happen, and --timeout, past which a command ends with ERR_TIMEOUT (exit 7).

import { readFileSync } from "node:fs";
import { createError, describeError, type SynclineError } from "../protocol/errors.js";
import type { RetryInfo } from "../transport/retry.js";
import { parseServerAddress, type ServerAddress } from "../transport/server-address.js";
import type { CliIo } from "./io.js";
import { printable } from "./terminal-text.js";

/** The connection settings of a command, as its table resolved them. */
export interface ConnectionValues {
  readonly server: string;
  readonly ca: string | undefined;
  readonly retries: number;
  readonly timeout: number;
}

/** Where and how patiently a command connects. */
export interface Connection {
  readonly address: ServerAddress;
  /** The PEM certificates of --ca, when given. */
  readonly ca: string | undefined;
  readonly retries: number;
  readonly timeoutMs: number;
}

/** Parses the address and reads the CA file; errors name the flag or key they came from. */
export function connectionOf(values: ConnectionValues): Connection {
  return {
    address: parseServerAddress(values.server, "--server"),
    ca: values.ca === undefined ? undefined : readCaFile(values.ca),
    retries: values.retries,
    timeoutMs: Math.round(values.timeout * 1000),
  };
}

/** Prints one retry on stderr: what failed, when the next attempt comes, which one it is. */
export function announceRetry(io: CliIo, retries: number, info: RetryInfo): void {
  io.stderr.write(
    `syncline: ${printable(info.error.message)}; retrying in ${(info.delayMs / 1000).toFixed(1)} s ` +
      `(attempt ${info.attempt} of ${retries + 1})\n`,
  );
}

/**
 * Resolves with `promise`, or rejects with ERR_TIMEOUT (exit 7) saying `what` did not happen
 * within the connection's timeout; `onTimeout` then runs (to close what is waiting).
 */
export function withinTimeout<T>(
  promise: Promise<T>,
  connection: Connection,
  what: string,
  onTimeout: () => void = () => {},
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      // Rejected first, so the race ends with the timeout, not with what closing causes.
      reject(timeoutError(what, connection.timeoutMs));
      onTimeout();
    }, connection.timeoutMs);
  });
  return Promise.race([promise, timedOut]).finally(() => clearTimeout(timer));
}

/** ERR_TIMEOUT: `what` did not happen within `timeoutMs`. */
export function timeoutError(what: string, timeoutMs: number, last?: SynclineError): SynclineError {
  const lastFailure = last === undefined ? "" : `; last failure: ${last.message}`;
  return createError(
    "ERR_TIMEOUT",
    `${what} within ${timeoutMs / 1000} s (--timeout)${lastFailure}`,
  );
}

/** Reads `--ca FILE`, which must hold at least one PEM certificate. */
function readCaFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw createError(
      "ERR_INVALID_CONFIG",
      `config: --ca ${path}: cannot read: ${describeError(error)}`,
      {
        cause: error,
      },
    );
  }
  if (!text.includes("-----BEGIN CERTIFICATE-----")) {
    throw createError(
      "ERR_INVALID_CONFIG",
      `config: --ca ${path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`,
    );
  }
  return text;
}
