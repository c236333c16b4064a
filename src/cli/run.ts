// Runs the CLI in-process: parses argv, runs the command, and turns any error into a message
// (or a `--json` error object) and an exit code. It never exits; cli/index.ts does.

import { CommanderError } from "commander";
import { toCommandError } from "./exit-error.js";
import { type CliIo, guardStdout, processIo, writeJson } from "./io.js";
import { createProgram } from "./program.js";
import { printable } from "./terminal-text.js";

/** Runs the CLI with `argv` (without node and script); resolves to the exit code. */
export async function runCli(argv: readonly string[], base: CliIo = processIo()): Promise<number> {
  const io = guardStdout(base);
  try {
    await createProgram(io).parseAsync([...argv], { from: "user" });
    return 0;
  } catch (thrown) {
    // --help and --version: commander printed them and ends the command with 0.
    if (thrown instanceof CommanderError && thrown.exitCode === 0) return 0;
    // The reader of stdout went away (`| head -1`) and the command was stopped for it (SIGPIPE):
    // the reader has what it wanted, so this ends as a finished command, with nothing to say.
    if (io.stdoutClosed) return 0;
    const error = toCommandError(thrown);
    if (argv.includes("--json")) {
      writeJson(io, { ok: false, error: { code: error.code, message: error.message } });
    } else {
      // A message may quote a peer (a server's refusal, a sender's name): no raw control characters.
      io.stderr.write(`syncline: ${printable(error.message, { keepNewlines: true })}\n`);
    }
    return error.exitCode;
  }
}
