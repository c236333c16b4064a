// The CLI's exit codes and the one error type commands throw to end with one of them.

import { type ErrorCode, isSynclineError } from "../protocol/errors.js";

/** Exit codes, as documented in README and docs/errors.md. */
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
  /** A SIGINT/SIGTERM stopped a command before it finished (128 + SIGINT, as shells report). */
  interrupted: 130,
} as const;

/** An exit code from `exitCodes`. */
export type ExitCode = (typeof exitCodes)[keyof typeof exitCodes];

/** Thrown by commands to end the process with `exitCode`; `cli/index.ts` alone exits. */
export class ExitError extends Error {
  constructor(
    readonly exitCode: ExitCode,
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "ExitError";
  }
}

/** Which exit code a SynclineError's code ends the process with; others are 1. */
const exitCodeByErrorCode: Partial<Record<ErrorCode, ExitCode>> = {
  ERR_USAGE: exitCodes.usage,
  ERR_INVALID_CONFIG: exitCodes.usage,
  ERR_CONFIG_FILE: exitCodes.usage,
  ERR_INVALID_DOCUMENT_ID: exitCodes.usage,
  ERR_INVALID_AUTOMERGE_URL: exitCodes.usage,
  ERR_LISTEN: exitCodes.cannotStart,
  ERR_TLS_CONFIG: exitCodes.cannotStart,
  ERR_DATA_DIR_LOCKED: exitCodes.cannotStart,
  ERR_STORE_OPEN: exitCodes.cannotStart,
  ERR_AUTHORIZED_KEYS: exitCodes.cannotStart,
  ERR_INVALID_SERVER_URL: exitCodes.usage,
  ERR_INVALID_CHANNEL: exitCodes.usage,
  ERR_CONNECT: exitCodes.cannotConnect,
  ERR_CONNECTION_CLOSED: exitCodes.cannotConnect,
  ERR_WIRE_TIMEOUT: exitCodes.cannotConnect,
  ERR_WIRE_VERSION: exitCodes.protocol,
  ERR_WIRE_FRAME: exitCodes.protocol,
  ERR_WIRE_MESSAGE: exitCodes.protocol,
  ERR_WIRE_REFUSED: exitCodes.protocol,
  ERR_STREAM_PROTOCOL: exitCodes.protocol,
  ERR_STREAM_INTEGRITY: exitCodes.protocol,
  ERR_AUTH_SIGNATURE: exitCodes.authRefused,
  ERR_AUTH_ALGORITHM: exitCodes.authRefused,
  ERR_AUTH_NONCE: exitCodes.authRefused,
  ERR_AUTH_NOT_AUTHORIZED: exitCodes.authRefused,
  ERR_AUTH_HOST_KEY: exitCodes.authRefused,
  ERR_AUTH_KEY_FILE: exitCodes.usage,
  ERR_AUTH_PASSPHRASE: exitCodes.usage,
  ERR_AUTH_NO_IDENTITY: exitCodes.usage,
  ERR_AUTOMERGE_MESSAGE: exitCodes.protocol,
  ERR_AUTOMERGE_VERSION: exitCodes.protocol,
  ERR_AUTOMERGE_PROTOCOL: exitCodes.protocol,
  ERR_DOCUMENT_UNAVAILABLE: exitCodes.documentUnavailable,
  ERR_DOCUMENT_TOO_LARGE: exitCodes.protocol,
  ERR_SYNC_DISABLED: exitCodes.syncDisabled,
  ERR_SYNC_UNRELATED: exitCodes.usage,
  ERR_TIMEOUT: exitCodes.timedOut,
  ERR_UNAUTHORIZED: exitCodes.authRefused,
  ERR_LOCAL_FILE: exitCodes.usage,
  ERR_FILE_LOCKED: exitCodes.usage,
  ERR_SHARE_NOT_FOUND: exitCodes.documentUnavailable,
  ERR_SHARE_EXISTS: exitCodes.usage,
  ERR_SHARE_SECRET: exitCodes.authRefused,
  ERR_SHARE_REQUEST: exitCodes.usage,
  ERR_SHARE_TOO_LARGE: exitCodes.usage,
  ERR_SHARE_RECORD: exitCodes.usage,
  ERR_SHARE_ITEM: exitCodes.usage,
};

/** Turns anything thrown into an ExitError, keeping stable codes and messages. */
export function toExitError(error: unknown): ExitError {
  if (error instanceof ExitError) return error;
  if (isSynclineError(error)) {
    const exitCode = exitCodeByErrorCode[error.code] ?? exitCodes.unexpected;
    return new ExitError(exitCode, error.code, error.message, { cause: error });
  }
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return new ExitError(exitCodes.unexpected, "ERR_UNEXPECTED", `unexpected error: ${message}`, {
    cause: error,
  });
}
