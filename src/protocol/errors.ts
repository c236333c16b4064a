// Every error syncline raises is built here, with a stable `code` that tests, scripts and
// `--json` output rely on; the message is for people and may change. Its HTTP status, close code,
// exit code and whether it is worth retrying come from the error table (error-table.ts).

import { type ErrorCode, errorTable } from "./error-table.js";
import type { ExitCode } from "./exit-codes.js";

/** Options shared by every syncline error. */
export interface ErrorOptions {
  /** The underlying error, kept for logs. */
  cause?: unknown;
  /**
   * The HTTP status, when it is not the table's: an answer received from a server keeps the
   * server's status, and a code without one in the table may carry one.
   */
  status?: number;
  /** The WebSocket close code, when it is not the table's. */
  closeCode?: number;
  /** Whether trying again may help, when this instance differs from the table (a DNS failure). */
  retryable?: boolean;
  /** The exit code, when it is not the table's (SIGTERM's 143 for ERR_INTERRUPTED). */
  exitCode?: ExitCode;
}

/** The one error class syncline throws; assert on `code`, never on `message`. */
export class SynclineError extends Error {
  readonly code: ErrorCode;
  /** The HTTP status this error is answered with; undefined when the table gives none. */
  readonly status: number | undefined;
  /** The WebSocket close code this error ends a connection with; undefined: 1011. */
  readonly closeCode: number | undefined;
  /** The exit code of a command that ends with this error. */
  readonly exitCode: ExitCode;
  /** True when the same request may succeed later. */
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    const spec: ErrorSpecView = errorTable[code] ?? errorTable.ERR_UNEXPECTED;
    this.name = "SynclineError";
    this.code = code;
    this.status = options.status ?? spec.status;
    this.closeCode = options.closeCode ?? spec.close;
    this.exitCode = options.exitCode ?? spec.exit;
    this.retryable = options.retryable ?? spec.retryable ?? false;
  }
}

/** An entry of the table, seen through the optional fields every entry may have. */
interface ErrorSpecView {
  readonly status?: number;
  readonly close?: number;
  readonly exit: ExitCode;
  readonly retryable?: boolean;
}

/** True when `code` is one of ours (a code read from a server's answer may not be). */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === "string" && Object.hasOwn(errorTable, code);
}

/** Builds a SynclineError; the message should name the context first and the bad value. */
export function createError(
  code: ErrorCode,
  message: string,
  options?: ErrorOptions,
): SynclineError {
  return new SynclineError(code, message, options);
}

/** True when `error` is a SynclineError, optionally with the given code. */
export function isSynclineError(error: unknown, code?: ErrorCode): error is SynclineError {
  return error instanceof SynclineError && (code === undefined || error.code === code);
}

/** A short description of any thrown value, for messages that wrap a cause. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === "string" && !error.message.includes(code)
      ? `${error.message} (${code})`
      : error.message;
  }
  return String(error);
}

/**
 * Runs `make` and returns its result, turning the RangeError or TypeError that a util helper
 * throws at a bad argument (util may not import this module) into ERR_INVALID_OPTION under
 * `context`, so a library user sees one error class; anything else passes unchanged.
 */
export function optionChecked<T>(context: string, make: () => T): T {
  try {
    return make();
  } catch (error) {
    if (error instanceof RangeError || error instanceof TypeError) {
      throw createError("ERR_INVALID_OPTION", `${context}: ${error.message}`, { cause: error });
    }
    throw error;
  }
}
