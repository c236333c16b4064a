// `syncline share`'s settings: the server (`--server` > `[share] server` > the local default) and
// which local share record a command means.

import { createError } from "../../protocol/errors.js";
import { httpBaseUrl } from "../../share/client/share-http.js";
import { readConfigTable } from "../config-table.js";
import type { CliIo } from "../io.js";
import { type ShareRecord, ShareRecordStore, shareRecordsPath } from "./share-records.js";

/** The default server: a `syncline serve` on this machine with its default port. */
export const defaultShareServer = "http://127.0.0.1:3030";

/** The [share] keys of the config file. */
export const shareConfigKeys = ["server"] as const;

/** Flags every share command takes. */
export interface ShareFlags {
  readonly server?: string;
  readonly config?: string;
  readonly json?: boolean;
}

/** The resolved server. */
export interface ShareServer {
  /** The http(s):// base URL (ws(s):// given are mapped to http(s)://). */
  readonly server: string;
  /** True when `--server` or `[share] server` chose it (not the default). */
  readonly chosen: boolean;
}

/** `--server` > `[share] server` > http://127.0.0.1:3030; warns about unknown [share] keys. */
export function resolveShareServer(flags: ShareFlags, io: CliIo): ShareServer {
  const { path, values } = readConfigTable("share", shareConfigKeys, flags.config, io);
  const fromFile = values.server;
  if (fromFile !== undefined && (typeof fromFile !== "string" || fromFile === "")) {
    throw createError(
      "ERR_INVALID_CONFIG",
      `config: share.server in ${path} must be a non-empty string, got ${JSON.stringify(fromFile)}`,
    );
  }
  const given = flags.server ?? fromFile;
  const source = flags.server !== undefined ? "--server" : `share.server in ${path}`;
  if (given === undefined) return { server: defaultShareServer, chosen: false };
  try {
    return { server: httpBaseUrl(given), chosen: true };
  } catch {
    throw createError(
      "ERR_INVALID_SERVER_URL",
      `share: ${source} ${JSON.stringify(given)} is not an http://, https://, ws:// or wss:// url`,
    );
  }
}

/** The share records of this user. */
export function openShareRecords(io: CliIo): ShareRecordStore {
  const store = new ShareRecordStore(shareRecordsPath(io.env));
  const warning = store.permissionWarning();
  if (warning) io.stderr.write(`syncline: warning: ${warning}\n`);
  return store;
}

/**
 * The record `command` means for `sessionID`: the one on the chosen server, or with no server
 * chosen the only one there is. Throws ERR_SHARE_RECORD naming the file when none (or several)
 * match.
 */
export function pickShareRecord(
  command: string,
  sessionID: string,
  server: ShareServer,
  store: ShareRecordStore,
): ShareRecord {
  const candidates = store.find(sessionID, server.chosen ? server.server : undefined);
  if (candidates.length === 1) return candidates[0] as ShareRecord;
  if (candidates.length === 0) {
    const where = server.chosen ? ` on ${server.server}` : "";
    throw createError(
      "ERR_SHARE_RECORD",
      `share ${command}: no share of session ${JSON.stringify(sessionID)}${where} in ${store.path}; run syncline share create ${sessionID} first`,
    );
  }
  const local = candidates.find((record) => record.server === server.server);
  if (local) return local;
  throw createError(
    "ERR_SHARE_RECORD",
    `share ${command}: session ${JSON.stringify(sessionID)} is shared on several servers (${candidates.map((r) => r.server).join(", ")}); choose one with --server`,
  );
}
