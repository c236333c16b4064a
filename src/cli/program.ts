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
    .option("--authorized-keys <file>", "OpenSSH authorized_keys: enables the transport on /wire")
    .option("--host-key <file>", "transport host key, created if missing (default <data>/host_key)")
    .option("--retain-bytes <n>", "largest payload a channel keeps as its latest (default 64 MiB)")
    .option("--heartbeat <ms>", "transport ping period in ms (default 20000)")
    .option("--heartbeat-grace <ms>", "silence allowed past a ping period in ms (default 10000)")
    .option(
      "--automerge-token <token>",
      "require ?token=TOKEN on automerge sync WebSockets [env SYNCLINE_AUTOMERGE_TOKEN] (default: open)",
    )
    .option(
      "--automerge-memory-budget <bytes>",
      "evict idle automerge documents above this memory estimate (default 64 MiB)",
    )
    .option(
      "--automerge-idle-evict <ms>",
      "evict automerge documents unused this long (default 30000)",
    )
    .option("--automerge-max-message <bytes>", "largest automerge sync frame (default 64 MiB)")
    .option(
      "--automerge-max-document <bytes>",
      "largest automerge document stored (default 256 MiB)",
    )
    .option(
      "--automerge-worker-threshold <bytes>",
      "sync automerge documents (or messages) larger than this in worker threads (default 256 KiB)",
    )
    .option(
      "--automerge-worker-threads <n>",
      "worker threads for large automerge documents; 0 = none (default 1, 2 with >= 4 cores)",
    )
    .option("--share-max-body <bytes>", "largest body of a share request (default 8 MiB)")
    .option("--share-max-item <bytes>", "largest content of one share item (default 1 MiB)")
    .option("--share-max-bytes <bytes>", "largest share, all its content (default 64 MiB)")
    .option(
      "--share-memory-budget <bytes>",
      "content all loaded shares may hold; idle ones leave to make room (default 512 MiB)",
    )
    .option(
      "--share-viewer-max-buffered <bytes>",
      "bytes queued for a share viewer before it is closed 4429 (default 4 MiB)",
    )
    .option(
      "--share-viewer-flush <ms>",
      "least time between two batches of updates to a share's viewers (default 0)",
    )
    .option(
      "--share-idle-evict <ms>",
      "a share without viewers or writes this long leaves memory (default 60000)",
    )
    .option("--share-catchup-frames <n>", "recent updates kept per share for since (default 1000)")
    .option("--share-catchup-bytes <bytes>", "… and at most these bytes of them (default 4 MiB)")
    .option(
      "--share-public-url <url>",
      "base of share links behind a proxy (default: the request's scheme and host)",
    )
    .option("--config <file>", "TOML config file [env SYNCLINE_CONFIG]")
    .option("--json", "print the listening addresses as one JSON line")
    .addHelpText("after", `\nLog levels: ${logLevels.join(", ")}.`)
    .action(async (options) => {
      const { serveCommand } = await import("./commands/serve.js");
      await serveCommand(options, io);
    });

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
      "--server <url>",
      "ws:// or wss:// sync server [config sync.server] (default wss://sync.automerge.org)",
    )
    .option(
      "--dry-run",
      "handshake and report whether the server has the document; send and write nothing",
    )
    .option(
      "--allow-unrelated",
      "merge a --file whose history shares nothing with the server's document (else exit 2)",
    )
    .option(
      "--timeout <seconds>",
      "give up after this long, exit 7 [config sync.timeout] (default 30)",
    )
    .option(
      "--retries <n>",
      "connection attempts after the first, exit 3 [config sync.retries] (default 3)",
    )
    .option("--config <file>", "TOML config file [env SYNCLINE_CONFIG]")
    .option(
      "--json",
      "print {ok, server, url, documentId, peerId, serverPeerId, protocolVersion, heads, changesSent, changesReceived, durationMs}",
    )
    .addHelpText("after", syncHelp)
    .action(async (document: string | undefined, options) => {
      const { syncCommand } = await import("./commands/sync.js");
      await syncCommand(document, options, io);
    });

  const transportOptions = (command: Command) =>
    command
      .option(
        "--server <url>",
        "server: ws://host:port, wss://host:port or unix:/path.sock [config transport.server] (default ws://127.0.0.1:3030)",
      )
      .option(
        "--identity <keyfile>",
        "SSH private key (default: ssh-agent, then ~/.ssh/id_ed25519, id_ecdsa, id_rsa)",
      )
      .option(
        "--server-fingerprint <fp>",
        "refuse a server whose host key is not this SHA256:… fingerprint",
      )
      .option(
        "--ca <file>",
        "PEM CA certificate(s) to trust for wss:// instead of the bundled CAs, e.g. a self-signed server's certificate [config transport.ca]",
      )
      .option("--retries <n>", "reconnect attempts before giving up, exit 3 (default 5)")
      .option("--config <file>", "TOML config file [env SYNCLINE_CONFIG]")
      .option("--json", "print a JSON summary {ok, bytes, sha256, durationMs}");

  transportOptions(
    program
      .command("send")
      .description("publish a file (or - for stdin) on a channel, authenticated by your SSH key")
      .argument("<file>", "the file to send, or - for stdin")
      .requiredOption("--channel <name>", "the channel to publish on"),
  ).action(async (file: string, options) => {
    const { sendCommand } = await import("./commands/send.js");
    await sendCommand(file, options, io);
  });

  transportOptions(
    program
      .command("recv")
      .description(
        "receive a channel's latest payload (or wait for the next); --follow keeps receiving",
      )
      .requiredOption("--channel <name>", "the channel to receive from")
      .option("-o, --output <file>", "where to write each payload; - for stdout (default -)")
      .option("--follow", "keep receiving every new payload until interrupted"),
  ).action(async (options) => {
    const { recvCommand } = await import("./commands/recv.js");
    await recvCommand(options, io);
  });

  const share = program
    .command("share")
    .description("publish a session as a live share, watch one live, delete one")
    .addHelpText("after", shareHelp);
  const shareServer = (command: Command) =>
    command
      .option(
        "--server <url>",
        "share server, http(s):// or ws(s):// [config share.server] (default http://127.0.0.1:3030)",
      )
      .option("--config <file>", "TOML config file [env SYNCLINE_CONFIG]");
  shareServer(
    share
      .command("create")
      .description("create a share of a session; prints its id, url and secret (shown once)")
      .argument("<sessionID>", "the session id; its last 8 characters become the share id")
      .option("--json", "print {ok, sessionID, server, id, url, secret, records}"),
  ).action(async (sessionID: string, options) => {
    const { shareCreateCommand } = await import("./commands/share.js");
    await shareCreateCommand(sessionID, options, io);
  });
  shareServer(
    share
      .command("push")
      .description("publish {type, data} items, one JSON object per stdin line, through the queue")
      .argument("<sessionID>", "a session shared with share create")
      .option(
        "--timeout <seconds>",
        "longest wait to deliver pending items at the end (default 30)",
      )
      .option("--json", "print {ok, sessionID, id, server, lines, items, requests, seq}"),
  ).action(async (sessionID: string, options) => {
    const { sharePushCommand } = await import("./commands/share-push.js");
    await sharePushCommand(sessionID, options, io);
  });
  shareServer(
    share
      .command("watch")
      .description("print a share's state, then every live update until Ctrl-C")
      .argument("<id>", "share id, session id, or viewer link http(s)://host/s/<id>")
      .option(
        "--retries <n>",
        "failed connections in a row before the first success that end it, exit 3 (default 5)",
      )
      .option("--json", 'one JSON object per line: {type:"snapshot"|"update"|"status", …}'),
  ).action(async (id: string, options) => {
    const { shareWatchCommand } = await import("./commands/share-watch.js");
    await shareWatchCommand(id, options, io);
  });
  shareServer(
    share
      .command("delete")
      .description("delete a share on its server (viewers are told) and forget its local record")
      .argument("<sessionID>", "a session shared with share create")
      .option("--json", "print {ok, sessionID, id, server}"),
  ).action(async (sessionID: string, options) => {
    const { shareDeleteCommand } = await import("./commands/share.js");
    await shareDeleteCommand(sessionID, options, io);
  });

  const keys = program.command("keys").description("SSH key helpers for the transport");
  keys
    .command("fingerprint")
    .description(
      "print a key's SHA256 fingerprint and its authorized_keys line (default: your identity)",
    )
    .argument("[keyfile]", "a public or private key file")
    .option("--json", "print {ok, fingerprint, type, source, authorizedKeysLine}")
    .action(async (keyFile: string | undefined, options) => {
      const { keysFingerprintCommand } = await import("./commands/keys.js");
      await keysFingerprintCommand(keyFile, options, io);
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

const shareHelp = `
Share records (id, secret, server per session) are kept in $XDG_CONFIG_HOME/syncline/shares.json
(default ~/.config/syncline/shares.json, mode 600). push and delete use the record's server unless
--server or [share] server chooses one. Changes to it are serialized by shares.json.lock: a
command waits up to 10 s for another's lock (ERR_FILE_LOCKED, exit 2, names its pid and age).

Config ($XDG_CONFIG_HOME/syncline/config.toml or --config):
  [share]
  server = "https://share.example.org"   # default http://127.0.0.1:3030

Exit codes: 0 ok (watch: the share was deleted), 1 unexpected, 2 usage or invalid input (bad
flag, session id, input line; no local record; records file locked; share exists; items refused),
3 cannot connect, 5 no such share on the server, 8 secret refused (the local record is removed),
130 interrupted (watch ends with Ctrl-C).

Examples:
  syncline share create ses_01HXYZabcdefgh
  syncline share push ses_01HXYZabcdefgh < items.jsonl
  syncline share watch abcdefgh --json
  syncline share delete ses_01HXYZabcdefgh
`;

const syncHelp = `
Pulls the server's changes into --file, pushes the file's changes to the server, and saves the
file only if something changed. With no local copy it asks the server for the document (exit 5 if
the server does not have it). A --file whose history shares no change with the server's document
holds another document: the sync stops before sending anything (exit 2, ERR_SYNC_UNRELATED)
unless --allow-unrelated is given. A dry run adds {dryRun, existsOnServer} to --json. Heads in a URL
(automerge:ID#HEADS) are accepted and ignored: the whole document is synced.

Config ($XDG_CONFIG_HOME/syncline/config.toml or --config):
  [sync]
  server = "wss://sync.example.org"   # default wss://sync.automerge.org
  enabled = true                      # false: sync exits 6
  timeout = 30                        # seconds
  retries = 3
  token = "…"                         # sent as ?token= for servers that require one

Exit codes: 0 ok, 1 unexpected, 2 usage or invalid input (id, url, flag, local file, unrelated file),
3 cannot connect (after retries), 4 protocol error (version mismatch, invalid server message),
5 document unavailable on the server and no local copy, 6 sync disabled in config,
7 timed out, 8 the server refused the token, 130 interrupted (file unchanged).

Examples:
  syncline sync --new --file notes.automerge
  syncline sync automerge:4NMNnkMhL8jXrdJ9jamS58PAVdXu --file notes.automerge --json
`;
