// `syncline share`'s settings: the server (`--server` > `[share] server` > the local default)
// with the connection options, requests to its API with retries and a deadline, and which
// local share record a command means.

import { createError, isSynclineError, type SynclineError } from "../../protocol/errors.js";
import { fileTable, readConfigFile } from "../../server/config-file.js";
import { createShareHttp, type ShareHttp } from "../../share/client/share-http.js";
import { createHttpFetch } from "../../transport/http-fetch.js";
import { withRetries } from "../../transport/retry.js";
import {
  describeAddress,
  httpUrl,
  parseServerAddress,
  type ServerAddress,
} from "../../transport/server-address.js";
import { configTables, resolveClientSettings, shareSettings } from "../client-settings.js";
import { announceRetry, type Connection, connectionOf, timeoutError } from "../connection.js";
import type { CliIo } from "../io.js";
import { settingFlags } from "../setting-options.js";
import { type ShareRecord, ShareRecordStore, shareRecordsPath } from "./share-records.js";

/** Flags every share command takes: its settings' flags, --config and --json. */
export interface ShareFlags extends Readonly<Record<string, unknown>> {
  readonly config?: string;
  readonly json?: boolean;
}

/** The resolved server and how to reach it. */
export interface ShareServer {
  /** The server as records name it: `http(s)://host:port[/base]` or `unix:/path.sock`. */
  readonly server: string;
  /** True when `--server` or `[share] server` chose it (not the default). */
  readonly chosen: boolean;
  /** --ca, --retries and --timeout (and the chosen address). */
  readonly connection: Connection;
  /** `--create-token` or `[share] create_token`, for servers that need one to create. */
  readonly createToken: string | undefined;
}

/** `--server` > `[share] server` > http://127.0.0.1:3030, with the connection options. */
export function resolveShareServer(flags: ShareFlags, io: CliIo): ShareServer {
  const file = readConfigFile(flags.config, io.env, configTables);
  const given = settingFlags(shareSettings, flags);
  const { values } = resolveClientSettings(
    "share",
    shareSettings,
    { ...given, config: flags.config },
    io,
    file,
  );
  const connection = connectionOf(values);
  const chosen =
    given.server !== undefined || fileTable(file, "share")?.values.server !== undefined;
  return {
    server: serverName(connection.address),
    chosen,
    connection,
    createToken: values.createToken,
  };
}

/**
 * The share API of `server` (a record's, or the chosen one) with the connection's CAs, over
 * TCP, TLS or a Unix socket.
 */
export function shareHttpFor(
  server: string,
  connection: Connection,
  createToken?: string,
): ShareHttp {
  const address = parseServerAddress(server);
  return createShareHttp({
    server: httpUrl(address, ""),
    fetch: createHttpFetch(address, { ca: connection.ca, context: "share" }),
    createToken,
  });
}

/**
 * Runs one request to the share API with the connection's retries (each announced) and
 * timeout; past the timeout it ends with ERR_TIMEOUT (exit 7) naming `what`.
 */
export async function shareRequest<T>(
  connection: Connection,
  io: CliIo,
  what: string,
  request: (signal: AbortSignal) => Promise<T>,
  interrupt?: AbortSignal,
): Promise<T> {
  const deadline = AbortSignal.timeout(connection.timeoutMs);
  const signal = interrupt === undefined ? deadline : AbortSignal.any([deadline, interrupt]);
  let last: SynclineError | undefined;
  try {
    return await withRetries(() => request(signal), {
      retries: connection.retries,
      signal,
      onRetry: (info) => {
        last = info.error;
        announceRetry(io, connection.retries, info);
      },
    });
  } catch (error) {
    if (deadline.aborted && !interrupt?.aborted) {
      throw timeoutError(what, connection.timeoutMs, isSynclineError(error) ? error : last);
    }
    throw error;
  }
}

/** How records and messages name a server. */
function serverName(address: ServerAddress): string {
  return address.kind === "unix" ? describeAddress(address) : httpUrl(address, "");
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
