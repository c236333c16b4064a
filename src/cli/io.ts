// What a command may touch of the outside world, injected so commands run in-process in tests.

import type { Writable } from "node:stream";
import { terminalSafeJson } from "./terminal-text.js";

/** The command's streams, environment and signal source. */
export interface CliIo {
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Registers a handler for SIGINT/SIGTERM; returns a function that removes it. */
  onSignal(handler: (signal: NodeJS.Signals) => void): () => void;
  /**
   * Registers a handler for a promise rejection nobody handled, which then no longer ends the
   * process; returns a function that removes it. Absent when commands run inside another
   * process (tests), whose own policy stays.
   */
  onUnhandledRejection?(handler: (reason: unknown) => void): () => void;
}

/** The real process's io. */
export function processIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    onSignal(handler) {
      process.on("SIGINT", handler);
      process.on("SIGTERM", handler);
      return () => {
        process.off("SIGINT", handler);
        process.off("SIGTERM", handler);
      };
    },
    onUnhandledRejection(handler) {
      process.on("unhandledRejection", handler);
      return () => process.off("unhandledRejection", handler);
    },
  };
}

/** An io whose stdout is guarded (`guardStdout`). */
export interface GuardedIo extends CliIo {
  /** True once a write to stdout failed: its reader went away. */
  readonly stdoutClosed: boolean;
}

/**
 * `io` with its stdout write errors handled, for every command in one place. When the reader
 * closes the pipe (`syncline share watch <id> | head -1`: EPIPE at the next write), node would
 * crash on the unhandled 'error' with a stack trace, and a command that waits for Ctrl-C would
 * never learn that nobody reads any more. Instead the first error is taken as SIGPIPE, which a
 * default Unix process dies of, and handed to the command's signal handlers: it winds down as on
 * Ctrl-C (connections closed, nothing more written) and `stdoutClosed` lets runCli end it with 0
 * and without a message. The listener stays: a write still in flight may fail after the run.
 */
export function guardStdout(io: CliIo): GuardedIo {
  const handlers = new Set<(signal: NodeJS.Signals) => void>();
  let closed = false;
  io.stdout.on("error", () => {
    if (closed) return;
    closed = true;
    for (const handler of [...handlers]) handler("SIGPIPE");
  });
  return {
    stdout: io.stdout,
    stderr: io.stderr,
    env: io.env,
    get stdoutClosed() {
      return closed;
    },
    onSignal(handler) {
      handlers.add(handler);
      const off = io.onSignal(handler);
      return () => {
        handlers.delete(handler);
        off();
      };
    },
    onUnhandledRejection: io.onUnhandledRejection?.bind(io),
  };
}

/**
 * Writes one JSON document as a line; the `--json` convention of every command. Values may come
 * from peers (a payload's name), so it is terminal-safe (see terminal-text.ts).
 */
export function writeJson(io: CliIo, value: unknown): void {
  io.stdout.write(`${terminalSafeJson(value)}\n`);
}
