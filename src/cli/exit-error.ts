// How a command's failure ends the process: the exit code and `--json` code of anything thrown
// (a SynclineError's come from the error table), and the one error of an interrupted command.

import { createError, isSynclineError, type SynclineError } from "../protocol/errors.js";
import { exitCodeOfSignal } from "../protocol/exit-codes.js";
import type { CliIo } from "./io.js";

/** Turns anything thrown into a SynclineError: ours as they are, others as ERR_UNEXPECTED. */
export function toCommandError(error: unknown): SynclineError {
  if (isSynclineError(error)) return error;
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return createError("ERR_UNEXPECTED", `unexpected error: ${message}`, { cause: error });
}

/**
 * The error of a command that `signal` stopped before it finished: ERR_INTERRUPTED, exit 130 for
 * SIGINT and 143 for SIGTERM, the same for every command. `what` says what was left undone
 * (`recv: SIGINT before a payload arrived on channel x`).
 */
export function interruptedError(
  what: string,
  signal: NodeJS.Signals,
  cause?: unknown,
): SynclineError {
  return createError("ERR_INTERRUPTED", what, {
    exitCode: exitCodeOfSignal(signal),
    ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * Runs `run` with a signal that SIGINT/SIGTERM abort. If a signal came before `run` settled, the
 * command ends with ERR_INTERRUPTED, `what(signal)` saying what was left undone, whether `run`
 * then failed (a closed socket) or returned (a receive ended by closing its client).
 */
export async function interruptible<T>(
  io: CliIo,
  what: (signal: NodeJS.Signals) => string,
  run: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  const stopListening = io.onSignal((signal) => controller.abort(signal));
  const interrupted = (cause?: unknown) => {
    const signal = controller.signal.reason as NodeJS.Signals;
    return interruptedError(what(signal), signal, cause);
  };
  try {
    const result = await run(controller.signal);
    if (controller.signal.aborted) throw interrupted();
    return result;
  } catch (error) {
    if (controller.signal.aborted && !isSynclineError(error, "ERR_INTERRUPTED")) {
      throw interrupted(error);
    }
    throw error;
  } finally {
    stopListening();
  }
}
