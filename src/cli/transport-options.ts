// What `send` and `recv` share: the server address, the TLS trust (`--ca`), the identity (with a
// passphrase prompt on a terminal), this device's id, and a reconnecting client with the
// configured retries.

import { randomUUID } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { Writable } from "node:stream";
import { describeError } from "../protocol/errors.js";
import { serverFileKeys } from "../server/config.js";
import { findConfigFile, loadConfigFile } from "../server/config-file.js";
import { resolveIdentity } from "../transport/auth/identity.js";
import { wireUrlOf } from "../transport/wire-address.js";
import { WireClient } from "../transport/wire-client.js";
import { ExitError, exitCodes } from "./exit-error.js";
import type { CliIo } from "./io.js";

/** Flags every transfer command takes. */
export interface TransportFlags {
  readonly server?: string;
  readonly identity?: string;
  readonly serverFingerprint?: string;
  /** A PEM file of CA certificates trusted for wss:// (instead of Node's bundled ones). */
  readonly ca?: string;
  readonly retries?: string;
  readonly config?: string;
  readonly json?: boolean;
}

/** The default server when neither --server nor `[transport] server` names one. */
export const defaultTransportServer = "ws://127.0.0.1:3030";

/** Resolves flags, config and identity into a connecting client. */
export async function connectTransport(flags: TransportFlags, io: CliIo): Promise<WireClient> {
  const found = findConfigFile(flags.config, io.env);
  const table = (found && loadConfigFile(found.path, serverFileKeys).transport) ?? {};
  const server = flags.server ?? stringSetting(table, "server") ?? defaultTransportServer;
  const retries = parseRetries(flags.retries ?? table.retries);
  const fingerprint = flags.serverFingerprint ?? stringSetting(table, "server_fingerprint");
  const identityFile = flags.identity ?? stringSetting(table, "identity");
  const caFile = flags.ca ?? stringSetting(table, "ca");
  const ca = caFile === undefined ? undefined : readCaFile(caFile);
  const signer = await resolveIdentity({
    ...(identityFile === undefined ? {} : { identityFile }),
    env: io.env,
    interactive: process.stdin.isTTY === true,
    askPassphrase: (path) => askHidden(`passphrase for ${path}: `),
  });
  return new WireClient({
    url: wireUrlOf(server),
    signer,
    maxAttempts: retries + 1,
    agent: "syncline-cli",
    ...(fingerprint === undefined ? {} : { serverFingerprint: fingerprint }),
    ...(ca === undefined ? {} : { ca }),
  });
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

function stringSetting(table: Readonly<Record<string, unknown>>, key: string): string | undefined {
  const value = table[key];
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value === "") {
    throw new ExitError(
      exitCodes.usage,
      "ERR_INVALID_CONFIG",
      `config: transport.${key} must be a non-empty string`,
    );
  }
  return value;
}

/** Reads `--ca FILE`, which must hold at least one PEM certificate. */
function readCaFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new ExitError(
      exitCodes.usage,
      "ERR_INVALID_CONFIG",
      `config: --ca ${path}: cannot read: ${describeError(error)}`,
      { cause: error },
    );
  }
  if (!text.includes("-----BEGIN CERTIFICATE-----")) {
    throw new ExitError(
      exitCodes.usage,
      "ERR_INVALID_CONFIG",
      `config: --ca ${path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`,
    );
  }
  return text;
}

function parseRetries(value: unknown): number {
  if (value === undefined) return 5;
  const number = typeof value === "number" ? value : Number(value);
  if (!Number.isInteger(number) || number < 0 || number > 1000) {
    throw new ExitError(
      exitCodes.usage,
      "ERR_INVALID_CONFIG",
      `config: --retries must be a whole number from 0 to 1000, got ${JSON.stringify(value)}`,
    );
  }
  return number;
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
