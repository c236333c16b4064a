// Builds the commander program: every command, its flags and help. Commands are imported
// lazily so `syncline --help` does not load the server.

import { Command, type CommanderError } from "commander";
import { createError } from "../protocol/errors.js";
import { exitCodeMeanings } from "../protocol/exit-codes.js";
import { serverSettings } from "../server/config.js";
import type { SettingTable } from "../server/setting-table.js";
import { version } from "../server/version.js";
import {
  adminSettings,
  shareSettings,
  syncSettings,
  transportSettings,
} from "./client-settings.js";
import { clipDefaults } from "./clip-defaults.js";
import type { CliIo } from "./io.js";
import { addSettingOptions, configHelp } from "./setting-options.js";

/** Builds the program; `parseAsync` runs the chosen command. Usage errors throw ERR_USAGE (exit 2). */
export function createProgram(io: CliIo): Command {
  const program = new Command("syncline")
    .description("real-time sync server, client and CLI: Automerge documents, live shares, streams")
    .version(version, "-V, --version")
    .showHelpAfterError("(run with --help for usage)")
    .addHelpText("after", exitCodeHelp)
    .exitOverride(rethrowAsUsageError)
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      // Errors are printed once, by cli/run.ts, from the error thrown above.
      outputError: () => {},
    });

  addSettingOptions(
    program
      .command("serve")
      .description("run the sync server (HTTP, WebSocket, metrics) until SIGINT/SIGTERM"),
    serverSettings,
    "server",
  )
    .option("--config <file>", "TOML config file [env SYNCLINE_CONFIG]")
    .option("--json", "print the listening addresses as one JSON line")
    .addHelpText("after", serveHelp)
    .action(async (options) => {
      const { serveCommand } = await import("./commands/serve.js");
      await serveCommand(options, io);
    });

  clientCommand(
    program
      .command("sync")
      .description("sync one Automerge document file with an automerge-repo sync server, once")
      .argument("[document]", "automerge:URL or document id (omit with --new)")
      .requiredOption(
        "--file <path>",
        "the local Automerge file; created if missing, saved atomically",
      )
      .option("--new", "make a new document from --file (or an empty one), push it, print its URL")
      .option(
        "--dry-run",
        "handshake and report whether the server has the document; send and write nothing",
      )
      .option(
        "--allow-unrelated",
        "merge a --file whose history shares nothing with the server's document (else exit 2)",
      ),
    syncSettings,
    "sync",
    "{ok, server, url, documentId, peerId, serverPeerId, protocolVersion, heads, changesSent, changesReceived, durationMs}",
  )
    .addHelpText("after", syncHelp)
    .action(async (document: string | undefined, options) => {
      const { syncCommand } = await import("./commands/sync.js");
      await syncCommand(document, options, io);
    });

  clientCommand(
    program
      .command("send")
      .description("publish a file (or - for stdin) on a channel, authenticated by your SSH key")
      .argument("<file>", "the file to send, or - for stdin")
      .requiredOption("--channel <name>", "the channel to publish on"),
    transportSettings,
    "transport",
    "{ok, bytes, sha256, durationMs}",
  )
    .option("--verbose", verboseHelp)
    .action(async (file: string, options) => {
      const { sendCommand } = await import("./commands/send.js");
      await sendCommand(file, options, io);
    });

  clientCommand(
    program
      .command("recv")
      .description(
        "receive a channel's latest payload (or wait for the next); --follow keeps receiving",
      )
      .requiredOption("--channel <name>", "the channel to receive from")
      .option("-o, --output <file>", "where to write each payload; - for stdout (default -)")
      .option("--follow", "keep receiving every new payload until interrupted"),
    transportSettings,
    "transport",
    "{ok, bytes, sha256, durationMs[, name]} per payload",
  )
    .option("--verbose", verboseHelp)
    .action(async (options) => {
      const { recvCommand } = await import("./commands/recv.js");
      await recvCommand(options, io);
    });

  addClipCommands(program, io);

  const share = program
    .command("share")
    .description("publish a session as a live share, watch one live, delete one")
    .addHelpText("after", shareHelp);
  clientCommand(
    share
      .command("create")
      .description("create a share of a session; prints its id, url and secret (shown once)")
      .argument("<sessionID>", "the session id; its last 8 characters become the share id"),
    shareSettings,
    "share",
    "{ok, sessionID, server, id, url, secret, records}",
  ).action(async (sessionID: string, options) => {
    const { shareCreateCommand } = await import("./commands/share.js");
    await shareCreateCommand(sessionID, options, io);
  });
  clientCommand(
    share
      .command("push")
      .description("publish {type, data} items, one JSON object per stdin line, through the queue")
      .argument("<sessionID>", "a session shared with share create"),
    shareSettings,
    "share",
    "{ok, sessionID, id, server, lines, items, requests, seq}",
  ).action(async (sessionID: string, options) => {
    const { sharePushCommand } = await import("./commands/share-push.js");
    await sharePushCommand(sessionID, options, io);
  });
  clientCommand(
    share
      .command("watch")
      .description("print a share's state, then every live update until Ctrl-C")
      .argument("<id>", "share id, session id, or viewer link http(s)://host/share/<id>"),
    shareSettings,
    "share",
    'one object per line: {type:"snapshot"|"update"|"status", …}',
  ).action(async (id: string, options) => {
    const { shareWatchCommand } = await import("./commands/share-watch.js");
    await shareWatchCommand(id, options, io);
  });
  clientCommand(
    share
      .command("delete")
      .description("delete a share on its server (viewers are told) and forget its local record")
      .argument("<sessionID>", "a session shared with share create"),
    shareSettings,
    "share",
    "{ok, sessionID, id, server}",
  ).action(async (sessionID: string, options) => {
    const { shareDeleteCommand } = await import("./commands/share.js");
    await shareDeleteCommand(sessionID, options, io);
  });

  const admin = program
    .command("admin")
    .description("the server owner's admin API: delete a share or a document without its secret")
    .addHelpText("after", adminHelp);
  clientCommand(
    admin
      .command("delete-share")
      .description("delete a share (its viewers are told) without its secret")
      .argument("<id>", "the share id"),
    adminSettings,
    "admin",
    '{ok, kind: "share", id, server}',
  ).action(async (id: string, options) => {
    const { adminDeleteCommand } = await import("./commands/admin.js");
    await adminDeleteCommand("share", id, options, io);
  });
  clientCommand(
    admin
      .command("delete-document")
      .description("delete an automerge document from the server (its peers are closed 4410)")
      .argument("<document>", "automerge:URL or document id"),
    adminSettings,
    "admin",
    '{ok, kind: "document", id, server}',
  ).action(async (document: string, options) => {
    const { adminDeleteCommand } = await import("./commands/admin.js");
    await adminDeleteCommand("document", document, options, io);
  });

  const data = program
    .command("data")
    .description("export or import all of a server's data (a stopped server's, for LMDB)")
    .addHelpText("after", dataHelp);
  addSettingOptions(
    data
      .command("export")
      .description(
        "write a portable dump of the store and the spool folder (to stdout, or -o FILE)",
      )
      .option("-o, --output <file>", "write the dump to FILE (replaced atomically, mode 0600)"),
    storeSettings,
    "server",
  )
    .option("--config <file>", "TOML config file [env SYNCLINE_CONFIG]")
    .option("--json", "with -o: print {ok, exported: {entries, spoolFiles, bytes}}")
    .action(async (options) => {
      const { dataExportCommand } = await import("./commands/data.js");
      await dataExportCommand(options, io);
    });
  addSettingOptions(
    data
      .command("import")
      .description("load a dump into an empty store and spool folder (checked whole first)")
      .argument("<file>", "a dump made by `syncline data export`"),
    storeSettings,
    "server",
  )
    .option("--config <file>", "TOML config file [env SYNCLINE_CONFIG]")
    .option("--json", "print {ok, imported: {entries, spoolFiles, bytes}}")
    .action(async (file: string, options) => {
      const { dataImportCommand } = await import("./commands/data.js");
      await dataImportCommand(file, options, io);
    });

  const keys = program.command("keys").description("SSH key helpers for the transport");
  keys
    .command("fingerprint")
    .description(
      "print a key's SHA256 fingerprint and its authorized_keys line (default: your identity)",
    )
    .argument("[keyfile]", "a public or private key file")
    .option("--json", "print {ok, fingerprint, type, source, device, authorizedKeysLine}")
    .option(
      "--device-name <name>",
      "this device's name, shown beside the fingerprint (default: the host name)",
    )
    .option("--config <file>", "the config file ([transport] device_name)")
    .action(async (keyFile: string | undefined, options) => {
      const { keysFingerprintCommand } = await import("./commands/keys.js");
      await keysFingerprintCommand(keyFile, options, io);
    });

  return program;
}

/**
 * Commander's own ends: --help and --version end with 0 (run.ts returns it); a usage error, or a
 * command called without its subcommand, is ERR_USAGE (exit 2).
 */
function rethrowAsUsageError(error: CommanderError): never {
  if (error.code === "commander.helpDisplayed" || error.code === "commander.version") throw error;
  const message =
    error.code === "commander.help"
      ? "no command given; the commands are listed above"
      : error.message.replace(/^error: /, "");
  throw createError("ERR_USAGE", message, { cause: error });
}

/** A client command's options from its settings table, then --config and --json. */
function clientCommand(
  command: Command,
  table: SettingTable,
  tableName: string,
  json: string,
): Command {
  return addSettingOptions(command, table, tableName)
    .option("--config <file>", "TOML config file [env SYNCLINE_CONFIG]")
    .option("--json", `print ${json}; on failure {ok: false, error: {code, message}}`);
}

/** `syncline clip`, `clip push` and `clip pull`: the clipboard shared between your devices. */
function addClipCommands(program: Command, io: CliIo): void {
  const options = (command: Command) =>
    clientCommand(command, transportSettings, "transport", "one {type, …, at} object per event")
      .option("--channel <name>", "the channel your devices share", clipDefaults.channel)
      .option(
        "--max-bytes <bytes>",
        "items larger than this are neither sent nor applied (a notice says so)",
        positiveInteger("--max-bytes"),
        clipDefaults.maxBytes,
      )
      .option("--quiet", "print nothing but errors")
      .option("--verbose", verboseHelp);
  const clip = options(
    program
      .command("clip")
      .description(
        "share the clipboard (text, and images as PNG) with your other devices, until interrupted",
      ),
  )
    .option(
      "--poll-interval <ms>",
      "how often the clipboard is looked at where the platform gives no change notice",
      positiveInteger("--poll-interval"),
      clipDefaults.pollIntervalMs,
    )
    .option("--poll", "look at the clipboard every --poll-interval even where change notices exist")
    .option(
      "--debounce <ms>",
      "a copy is sent once the clipboard held it this long (rapid copies send only the last)",
      nonNegativeInteger("--debounce"),
      clipDefaults.debounceMs,
    )
    .addHelpText("after", clipHelp)
    .action(async (flags) => {
      const { clipCommand } = await import("./commands/clip.js");
      await clipCommand(flags, io);
    });
  options(clip.command("push").description("send what the clipboard holds now, once")).action(
    async (flags) => {
      const { clipPushCommand } = await import("./commands/clip.js");
      await clipPushCommand({ ...clip.opts(), ...flags }, io);
    },
  );
  options(clip.command("pull").description("apply the latest item your devices sent, once")).action(
    async (flags) => {
      const { clipPullCommand } = await import("./commands/clip.js");
      await clipPullCommand({ ...clip.opts(), ...flags }, io);
    },
  );
}

/** A commander parser of a whole number ≥ 1; a bad value is ERR_USAGE naming the flag. */
function positiveInteger(flag: string): (value: string) => number {
  return (value) => wholeNumber(flag, value, 1);
}

function nonNegativeInteger(flag: string): (value: string) => number {
  return (value) => wholeNumber(flag, value, 0);
}

function wholeNumber(flag: string, value: string, min: number): number {
  const number = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(number) || number < min) {
    throw createError(
      "ERR_USAGE",
      `${flag}: ${JSON.stringify(value)} is not a whole number ≥ ${min}`,
    );
  }
  return number;
}

const clipHelp = `
Each device runs \`syncline clip\` with its own SSH key (authorized on the server) and the same
--channel. A copy is sent once it settled (--debounce); items from your other devices are
applied to this clipboard, and never sent back. Items a password manager marks as concealed are
never sent. Clipboard tools: wl-clipboard on Wayland, xclip (or xsel, text only) on X11,
pbcopy/pbpaste and osascript on macOS, PowerShell on Windows.

Examples:
  syncline clip --server wss://sync.example.org --device-name laptop
  syncline clip push --server wss://sync.example.org
  syncline clip pull --json
`;

const verboseHelp = "say on stderr which keys are offered to the server, and which it refuses";

const shareHelp = `
Share records (id, secret, server per session) are kept in $XDG_CONFIG_HOME/syncline/shares.json
(default ~/.config/syncline/shares.json, mode 600). push and delete use the record's server unless
--server or [share] server chooses one. Changes to it are serialized by shares.json.lock: a
command waits up to 10 s for another's lock (ERR_FILE_LOCKED, exit 2, names its pid and age).
A refused secret (exit 8) removes the local record. watch ends with 0 when the share is deleted
or on Ctrl-C, and with 5 when there is no such share.
${configHelp("share", shareSettings)}
Examples:
  syncline share create ses_01HXYZabcdefgh
  syncline share push ses_01HXYZabcdefgh < items.jsonl
  syncline share watch abcdefgh --json
  syncline share delete ses_01HXYZabcdefgh --server unix:/run/syncline.sock
`;

/** The server settings that choose the store: what `syncline data` opens. */
const storeSettings = {
  dataDir: serverSettings.dataDir,
  postgres: serverSettings.postgres,
  durability: serverSettings.durability,
} satisfies SettingTable;

const dataHelp = `
Both open the store the server's settings name (--data DIR, or --postgres URL; also from
DATA_DIR / DATABASE_URL and the config file's [server] table). Stop the server first when its
store is the embedded one: its data directory is locked while it runs.

  syncline data export --data ./syncline-data -o backup.dump
  syncline data import --postgres postgres://syncline@db/syncline backup.dump

import refuses a store that already holds entries, and checks the whole file (sizes, counts,
SHA-256) before it writes anything.
`;

const adminHelp = `
Needs a server started with --admin-token (else exit 8, ERR_ADMIN_DISABLED) and that token, from
--token or [admin] token. A document deleted while a client still holds it may be pushed again.
${configHelp("admin", adminSettings)}
Examples:
  syncline admin delete-share abcdefgh --server https://share.example.org --token "$TOKEN"
  syncline admin delete-document automerge:4NMNnkMhL8jXrdJ9jamS58PAVdXu
`;

const syncHelp = `
Pulls the server's changes into --file, pushes the file's changes to the server, and saves the
file only if something changed. With no local copy it asks the server for the document (exit 5 if
the server does not have it). A --file whose history shares no change with the server's document
holds another document: the sync stops before sending anything (exit 2, ERR_SYNC_UNRELATED)
unless --allow-unrelated is given. A dry run adds {dryRun, existsOnServer} to --json and exits as
the sync would (5 when the server does not have the document and there is no local copy). Heads
in a URL (automerge:ID#HEADS) are accepted and ignored: the whole document is synced.
${configHelp("sync", syncSettings)}
Examples:
  syncline sync --new --file notes.automerge
  syncline sync automerge:4NMNnkMhL8jXrdJ9jamS58PAVdXu --file notes.automerge --json
`;

const serveHelp = `
Each setting comes from its flag, else its environment variable, else the [server] table of the
config file, else its default. SIGINT/SIGTERM shut down gracefully (exit 0); a second one cuts
the shutdown short.
`;

/** The exit codes every command shares, from the table, after the program's own help. */
const exitCodeHelp = `
Exit codes:
${Object.entries(exitCodeMeanings)
  .map(([code, meaning]) => `  ${code.padStart(3)}  ${meaning}`)
  .join("\n")}
`;
