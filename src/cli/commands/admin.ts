// `syncline admin delete-share|delete-document`: the server owner deletes a share or an automerge
// document without its secret, through the admin API of a server started with --admin-token.

import { createError, isErrorCode, type SynclineError } from "../../protocol/errors.js";
import { createHttpFetch } from "../../transport/http-fetch.js";
import { describeAddress, httpUrl } from "../../transport/server-address.js";
import { parseDocumentRef } from "../../util/ids.js";
import { adminSettings, resolveClientSettings } from "../client-settings.js";
import { type Connection, connectionOf } from "../connection.js";
import { type CliIo, writeJson } from "../io.js";
import { settingFlags } from "../setting-options.js";
import { shareRequest } from "./share-settings.js";

/** Flags of the admin commands: their settings' flags, --config and --json. */
export interface AdminFlags extends Readonly<Record<string, unknown>> {
  readonly config?: string;
  readonly json?: boolean;
}

/** What can be deleted, and how the API names it. */
export type AdminTarget = "share" | "document";

/** `admin delete-share <id>` / `admin delete-document <id | automerge:URL>`. */
export async function adminDeleteCommand(
  target: AdminTarget,
  given: string,
  options: AdminFlags,
  io: CliIo,
): Promise<void> {
  const flags = { ...settingFlags(adminSettings, options), config: options.config };
  const { values } = resolveClientSettings("admin", adminSettings, flags, io);
  if (values.token === undefined) {
    throw createError(
      "ERR_USAGE",
      `admin: the server's admin token is needed: --token TOKEN or [admin] token in the config file`,
    );
  }
  const id = target === "document" ? parseDocumentRef(given).documentId : given;
  const connection = connectionOf(values);
  const server = describeAddress(connection.address);
  await shareRequest(connection, io, `admin: no answer from ${server}`, (signal) =>
    deleteOne(connection, target, id, values.token as string, signal),
  );
  if (options.json) {
    writeJson(io, { ok: true, kind: target, id, server });
    return;
  }
  io.stdout.write(`${target} ${id} deleted from ${server}\n`);
}

async function deleteOne(
  connection: Connection,
  target: AdminTarget,
  id: string,
  token: string,
  signal: AbortSignal,
): Promise<void> {
  const fetch = createHttpFetch(connection.address, { ca: connection.ca, context: "admin" });
  const url = httpUrl(connection.address, `/admin/${target}/${encodeURIComponent(id)}`);
  const response = await fetch(url, {
    method: "DELETE",
    headers: { authorization: `Bearer ${token}` },
    signal,
  });
  const text = await response.text();
  if (response.status === 200) return;
  throw answerError(`admin: delete ${target} ${id}`, response.status, text);
}

/** The server's own error when it sent one of ours; else the code its status stands for. */
function answerError(context: string, status: number, text: string): SynclineError {
  let body: { error?: { code?: unknown; message?: unknown } } | undefined;
  try {
    body = JSON.parse(text);
  } catch {}
  const message =
    typeof body?.error?.message === "string" ? body.error.message : text.slice(0, 200);
  const full = `${context}: the server answered ${status}: ${message}`;
  const code = body?.error?.code;
  if (isErrorCode(code)) return createError(code, full, { status });
  const fallback =
    status === 401 ? "ERR_UNAUTHORIZED" : status === 404 ? "ERR_NOT_FOUND" : "ERR_UPGRADE_REFUSED";
  return createError(fallback, full, { status, retryable: status >= 500 });
}
