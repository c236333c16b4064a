// What `send` and `recv` share: the [transport] settings (server, --ca, --retries, --timeout,
// identity, pinned host key), the keys to offer (with a passphrase prompt on a terminal), the
// server's host key checked against the pin or known_hosts, this device's id, and a reconnecting
// client that is connected before the command goes on.

import { randomUUID } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { Writable } from "node:stream";
import { resolveIdentities } from "../transport/auth/identity.js";
import { describeAddress } from "../transport/server-address.js";
import { WireClient } from "../transport/wire-client.js";
import type { ServerHostKey } from "../transport/wire-dial.js";
import { resolveClientSettings, transportSettings } from "./client-settings.js";
import { configDir, ensureFolderOf } from "./config-dir.js";
import { announceRetry, connectionOf, withinTimeout } from "./connection.js";
import type { CliIo } from "./io.js";
import { KnownHosts, knownHostName, knownHostsPath } from "./known-hosts.js";
import { settingFlags } from "./setting-options.js";
import { printable } from "./terminal-text.js";

/** Flags every transfer command takes: its settings' flags, --config, --json and --verbose. */
export interface TransportFlags extends Readonly<Record<string, unknown>> {
  readonly config?: string;
  readonly json?: boolean;
  readonly verbose?: boolean;
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
  /**
   * A command that runs until stopped (`clip`): it waits for the server as long as it takes and
   * reconnects after any outage, however long (--retries and --timeout do not apply).
   */
  persistent = false,
): Promise<WireClient> {
  const { values } = resolveClientSettings(
    "transport",
    transportSettings,
    { ...settingFlags(transportSettings, flags), config: flags.config },
    io,
  );
  const connection = connectionOf(values);
  const signers = await resolveIdentities({
    ...(values.identity === undefined ? {} : { identityFile: values.identity }),
    env: io.env,
    interactive: process.stdin.isTTY === true,
    askPassphrase: (path) => askHidden(`passphrase for ${path}: `),
  });
  const pinned = values.serverFingerprint;
  const client = new WireClient({
    address: connection.address,
    signer: signers,
    ...(persistent ? {} : { maxAttempts: connection.retries + 1 }),
    agent: "syncline-cli",
    // One attempt may take the whole --timeout when it is short, else the transport's usual 10 s,
    // so that a server that accepts and never answers costs a retry, not the whole wait.
    handshakeTimeoutMs: Math.min(connection.timeoutMs, 10_000),
    // A pinned fingerprint is the whole check: known_hosts is neither read nor written then.
    ...(pinned === undefined
      ? { verifyHostKey: trustOnFirstUse(io) }
      : { serverFingerprint: pinned }),
    ...(flags.verbose ? { debug: (message: string) => debugLine(io, message) } : {}),
    ...(connection.ca === undefined ? {} : { ca: connection.ca }),
  });
  client.on("retry", (info) => announceRetry(io, connection.retries, info));
  const interrupt = () => client.close("interrupted");
  if (signal?.aborted) interrupt();
  signal?.addEventListener("abort", interrupt, { once: true });
  const where = describeAddress(connection.address);
  if (persistent) {
    await client.whenOpen();
    return client;
  }
  await withinTimeout(client.whenOpen(), connection, `${context}: no connection to ${where}`, () =>
    client.close("timed out"),
  );
  return client;
}

/**
 * Checks a server's host key against known_hosts, recording it on first contact and saying so
 * once on stderr, as ssh's "Permanently added"; a changed key is ERR_AUTH_HOST_KEY (exit 8).
 */
function trustOnFirstUse(io: CliIo): (host: ServerHostKey) => Promise<void> {
  const knownHosts = new KnownHosts(knownHostsPath(io.env));
  return async (host) => {
    if ((await knownHosts.check(host)) !== "added") return;
    io.stderr.write(
      `syncline: permanently added the host key ${host.fingerprint} of ` +
        `${printable(describeAddress(host.address))} (${knownHostName(host.address)}) to ${knownHosts.path}\n`,
    );
  };
}

/** One `--verbose` line on stderr. */
function debugLine(io: CliIo, message: string): void {
  io.stderr.write(`syncline: debug: ${printable(message)}\n`);
}

/**
 * This machine's device id, the `origin` of what it publishes: made once and kept in the user's
 * config directory (created 0700, the file 0600), so a device recognises its own items across
 * runs (the clipboard loop).
 */
export function deviceId(env: CliIo["env"]): string {
  const path = join(configDir(env), "device-id");
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    const id = randomUUID();
    ensureFolderOf(path, "device id");
    writeFileSync(path, `${id}\n`, { mode: 0o600 });
    return id;
  }
}

/** This device's name as its other devices see it: `--device-name`, else the host name. */
export function deviceName(flags: TransportFlags, io: CliIo): string {
  const { values } = resolveClientSettings(
    "transport",
    transportSettings,
    { ...settingFlags(transportSettings, flags), config: flags.config },
    io,
  );
  return values.deviceName ?? hostname();
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
