// Builds the commander program: every command, its flags and help. Commands are imported
// lazily so `syncline --help` does not load the server.

import { Command, CommanderError, Option } from "commander";
import { logLevels } from "../server/config.js";
import { version } from "../server/version.js";
import { ExitError, exitCodes } from "./exit-error.js";
import type { CliIo } from "./io.js";

/** Builds the program; `parseAsync` runs the chosen command. Usage errors throw ExitError(2). */
export function createProgram(io: CliIo): Command {
  const program = new Command("syncline")
    .description("real-time sync server, client and CLI: Automerge documents, live shares, streams")
    .version(version, "-V, --version")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride(rethrowAsExitError)
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      // Errors are printed once, by cli/index.ts, from the ExitError thrown above.
      outputError: () => {},
    });

  program
    .command("serve")
    .description("run the sync server (HTTP, WebSocket, metrics) until SIGINT/SIGTERM")
    .option("--host <address>", "address to bind [env HOST] (default 127.0.0.1)")
    .option("--port <port>", "TCP port, 0 = any free port [env PORT] (default 3030)")
    .option("--data <dir>", "embedded store directory [env DATA_DIR] (default ./syncline-data)")
    .option("--unix <path>", "also listen on this Unix socket")
    .option("--tls-cert <file>", "PEM certificate: serve HTTPS/WSS (with --tls-key)")
    .option("--tls-key <file>", "PEM private key for --tls-cert")
    .addOption(
      new Option("--log-level <level>", "log level on stderr [env LOG_LEVEL] (default info)"),
    )
    .option(
      "--durability <level>",
      "acknowledge writes on disk flush (power-loss safe) or on commit: flush|commit (default flush)",
    )
    .option("--shutdown-timeout <ms>", "longest graceful shutdown in ms (default 4000)")
    .option("--config <file>", "TOML config file [env SYNCLINE_CONFIG]")
    .option("--json", "print the listening addresses as one JSON line")
    .addHelpText("after", `\nLog levels: ${logLevels.join(", ")}.`)
    .action(async (options) => {
      const { serveCommand } = await import("./commands/serve.js");
      await serveCommand(options, io);
    });

  return program;
}

function rethrowAsExitError(error: CommanderError): never {
  if (error.code === "commander.helpDisplayed" || error.code === "commander.version") {
    throw new ExitError(exitCodes.ok, "ERR_USAGE", "");
  }
  if (error.code === "commander.help") throw new ExitError(exitCodes.ok, "ERR_USAGE", "");
  const message = error.message.replace(/^error: /, "");
  throw new ExitError(exitCodes.usage, "ERR_USAGE", message, { cause: error });
}

export { CommanderError };
