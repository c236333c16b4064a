// What `send` and `recv` share: the [transport] settings (server, --ca, --retries, --timeout,
// identity, pinned host key), the identity (with a passphrase prompt on a terminal), this
// device's id, and a reconnecting client that is connected before the command goes on.

import { randomUUID } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { Writable } from "node:stream";
import { resolveIdentity } from "../transport/auth/identity.js";
import { describeAddress } from "../transport/server-address.js";
import { WireClient } from "../transport/wire-client.js";
import { resolveClientSettings, transportSettings } from "./client-settings.js";
import { announceRetry, connectionOf, withinTimeout } from "./connection.js";
import type { CliIo } from "./io.js";
import { settingFlags } from "./setting-options.js";

/** Flags every transfer command takes: its settings' flags, --config and --json. */
export interface TransportFlags extends Readonly<Record<string, unknown>> {
  readonly config?: string;
  readonly json?: boolean;
}

/**
 * Resolves flags, config and identity into a client, and waits for its first authenticated
 * connection: failed attempts are announced and retried (--retries), and past --timeout the
 * command ends with ERR_TIMEOUT. `context` names the command in messages (`send`); aborting
 * `signal` (an interrupt) closes the client, now or later.
 */
export async function connectTransport(
  flags: TransportFlags,
  io: CliIo,
  context: string,
  signal?: AbortSignal,
): Promise<WireClient> {
  const { values } = resolveClientSettings(
    "transport",
    transportSettings,
    { ...settingFlags(transportSettings, flags), config: flags.config },
    io,
  );
  const connection = connectionOf(values);
  const signer = await resolveIdentity({
    ...(values.identity === undefined ? {} : { identityFile: values.identity }),
    env: io.env,
    interactive: process.stdin.isTTY === true,
    askPassphrase: (path) => askHidden(`passphrase for ${path}: `),
  });
  const client = new WireClient({
    address: connection.address,
    signer,
    maxAttempts: connection.retries + 1,
    agent: "syncline-cli",
    // One attempt may take the whole --timeout when it is short, else the transport's usual 10 s,
    // so that a server that accepts and never answers costs a retry, not the whole wait.
    handshakeTimeoutMs: Math.min(connection.timeoutMs, 10_000),
    ...(values.serverFingerprint === undefined
      ? {}
      : { serverFingerprint: values.serverFingerprint }),
    ...(connection.ca === undefined ? {} : { ca: connection.ca }),
  });
  client.on("retry", (info) => announceRetry(io, connection.retries, info));
  const interrupt = () => client.close("interrupted");
  if (signal?.aborted) interrupt();
  signal?.addEventListener("abort", interrupt, { once: true });
  const where = describeAddress(connection.address);
  await withinTimeout(client.whenOpen(), connection, `${context}: no connection to ${where}`, () =>
    client.close("timed out"),
  );
  return client;
}

/**
 * This machine's device id, the `origin` of what it publishes: made once and kept in the user's
 * config directory, so a device recognises its own items across runs (the clipboard loop).
 */
export function deviceId(env: CliIo["env"]): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), ".config");
  const path = join(base, "syncline", "device-id");
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    const id = randomUUID();
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, `${id}\n`, { mode: 0o600 });
    return id;
  }
}

/** Reads a line from the terminal without echoing it. */
function askHidden(prompt: string): Promise<string> {
  process.stderr.write(prompt);
  const silent = new Writable({ write: (_chunk, _encoding, done) => done() });
  const rl = createInterface({ input: process.stdin, output: silent, terminal: true });
  return new Promise((resolve) =>
    rl.question("", (answer) => {
      rl.close();
      process.stderr.write("\n");
      resolve(answer);
    }),
  );
}
