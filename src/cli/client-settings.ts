// The client commands' settings, defined once like the server's: the connection options every
// client command takes (--server, --ca, --retries, --timeout), the config-file table each
// command reads ([sync], [share], [transport], [admin]), and every table a config file may hold.

import { z } from "zod";
import { serverSettings } from "../server/config.js";
import {
  type ConfigFile,
  type ConfigTables,
  fileTable,
  readConfigFile,
} from "../server/config-file.js";
import {
  defineSettings,
  integer,
  nonEmptyText,
  resolveSettings,
  type SettingTable,
  type SettingValues,
  seconds,
} from "../server/setting-table.js";
import { isServerAddress } from "../transport/server-address.js";
import type { CliIo } from "./io.js";

const serverAddress = z
  .string("must be a string")
  .trim()
  .refine(
    isServerAddress,
    "must be ws://host:port, wss://host:port, http(s)://host:port or unix:/path.sock",
  );

/** The connection options of every client command; `server` defaults per command. */
function connectionSettings(defaultServer: string) {
  return {
    server: {
      flag: "--server",
      value: "URL",
      key: "server",
      kind: "string",
      schema: serverAddress,
      errorCode: "ERR_INVALID_SERVER_URL",
      default: defaultServer,
      help: "the server: ws://, wss://, http(s)://host:port or unix:/path.sock",
    },
    ca: {
      flag: "--ca",
      value: "FILE",
      key: "ca",
      kind: "string",
      schema: nonEmptyText.optional(),
      defaultText: "the bundled CAs",
      help: "PEM CA certificate(s) to trust for wss:// and https://, e.g. a self-signed server's",
    },
    retries: {
      flag: "--retries",
      value: "N",
      key: "retries",
      kind: "integer",
      schema: integer(0, 100),
      default: 5,
      help: "connection attempts after a failed one, each announced on stderr; then exit 3",
    },
    timeout: {
      flag: "--timeout",
      value: "SECONDS",
      key: "timeout",
      kind: "number",
      schema: seconds(86_400),
      default: 30,
      help: "longest wait for the server, retries included (sync: the whole sync; share push: delivering what is left); then exit 7",
    },
  } as const;
}

/** `syncline sync`'s settings: `[sync]`. */
export const syncSettings = defineSettings({
  ...connectionSettings("wss://sync.automerge.org"),
  enabled: {
    key: "enabled",
    kind: "boolean",
    schema: z.boolean(),
    default: true,
    help: "false turns `syncline sync` off: it exits 6 before reading anything else",
  },
  token: {
    key: "token",
    kind: "string",
    schema: nonEmptyText.optional(),
    help: "sent as ?token= for a server started with an automerge access token; a refusal exits 8",
  },
});

/** `syncline share`'s settings: `[share]`. */
export const shareSettings = defineSettings({
  ...connectionSettings("http://127.0.0.1:3030"),
  createToken: {
    flag: "--create-token",
    value: "TOKEN",
    key: "create_token",
    kind: "string",
    schema: nonEmptyText.optional(),
    help: "share create sends it as Authorization: Bearer, for a server started with --share-create-token; a refusal exits 8",
  },
});

/** `syncline admin`'s settings: `[admin]`. */
export const adminSettings = defineSettings({
  ...connectionSettings("http://127.0.0.1:3030"),
  token: {
    flag: "--token",
    value: "TOKEN",
    key: "token",
    kind: "string",
    schema: nonEmptyText.optional(),
    help: "the server's --admin-token, sent as Authorization: Bearer; required",
  },
});

/** `syncline send` and `recv`'s settings: `[transport]`. */
export const transportSettings = defineSettings({
  ...connectionSettings("ws://127.0.0.1:3030"),
  identity: {
    flag: "--identity",
    value: "KEYFILE",
    key: "identity",
    kind: "string",
    schema: nonEmptyText.optional(),
    defaultText: "each ssh-agent key in turn, else ~/.ssh/id_ed25519, id_ecdsa, id_rsa",
    help: "the SSH key to authenticate with (only it): through ssh-agent when the agent holds it (then KEYFILE may be its .pub), else the private key file",
  },
  serverFingerprint: {
    flag: "--server-fingerprint",
    value: "FP",
    key: "server_fingerprint",
    kind: "string",
    schema: nonEmptyText.optional(),
    defaultText: "known_hosts: trust on first use",
    help: "refuse a server whose host key is not this SHA256:… fingerprint; known_hosts is then neither read nor written",
  },
  deviceName: {
    flag: "--device-name",
    value: "NAME",
    key: "device_name",
    kind: "string",
    schema: nonEmptyText.optional(),
    defaultText: "this machine's host name",
    help: "this device's name, shown to your other devices beside what it sends (clip) and by keys fingerprint",
  },
});

/** Every table a config file may hold, by name. */
export const configTables: ConfigTables = {
  server: serverSettings,
  sync: syncSettings,
  share: shareSettings,
  transport: transportSettings,
  admin: adminSettings,
};

/** Where a command's settings came from: the values, and the config file read (if any). */
export interface ClientSettings<T extends SettingTable> {
  readonly values: SettingValues<T>;
  /** The config file's path, when there is one. */
  readonly configPath: string | undefined;
}

/**
 * Resolves a client command's table `name`: flags > the config file's `[name]` table > defaults.
 * The whole file is checked (unknown tables and keys, wrong types), whichever table is used;
 * `file` is the file already read, when the caller read it first.
 */
export function resolveClientSettings<T extends SettingTable>(
  name: "sync" | "share" | "transport" | "admin",
  table: T,
  flags: Readonly<Record<string, unknown>> & { readonly config?: string | undefined },
  io: CliIo,
  file: ConfigFile | undefined = readConfigFile(flags.config, io.env, configTables),
): ClientSettings<T> {
  return {
    values: resolveSettings(table, { flags, env: {}, file: fileTable(file, name) }),
    configPath: file?.path,
  };
}
