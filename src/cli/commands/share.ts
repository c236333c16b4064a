// `syncline share create|push|delete`: publishing a session as a live share. The secret is shown
// once by create and kept in the user's share records (mode 0600); push (share-push.ts) streams
// JSONL items from stdin through the client queue and exits once they are flushed.

import type { ErrorCode } from "../../protocol/error-table.js";
import { createError, describeError } from "../../protocol/errors.js";
import { shareIdOfSession } from "../../protocol/share-items.js";
import { interruptible } from "../exit-error.js";
import { type CliIo, writeJson } from "../io.js";
import {
  openShareRecords,
  pickShareRecord,
  resolveShareServer,
  type ShareFlags,
  shareHttpFor,
  shareRequest,
} from "./share-settings.js";

/** `share create <sessionID>`: creates the share, stores its record, prints id, url, secret. */
export async function shareCreateCommand(
  sessionID: string,
  options: ShareFlags,
  io: CliIo,
): Promise<void> {
  const id = checkSessionId("create", sessionID);
  const { server, connection, createToken } = resolveShareServer(options, io);
  const store = openShareRecords(io);
  const existing = store.find(sessionID, server)[0];
  if (existing) {
    throw createError(
      "ERR_SHARE_EXISTS",
      `share create: session ${JSON.stringify(sessionID)} is already shared on ${server} as ${existing.id} (${existing.url}); its record is in ${store.path}`,
    );
  }
  const http = shareHttpFor(server, connection, createToken);
  const share = await interruptible(
    io,
    (signal) => `share create: ${signal} before the share of ${sessionID} was created on ${server}`,
    (interrupt) =>
      shareRequest(
        connection,
        io,
        `share create: no answer from ${server}`,
        (signal) => http.create(sessionID, signal),
        interrupt,
      ),
  );
  if (share.id !== id) {
    io.stderr.write(
      `syncline: warning: the server named the share ${share.id}, not ${id} (the session id's last 8 characters)\n`,
    );
  }
  try {
    await store.add({
      sessionID,
      id: share.id,
      secret: share.secret,
      server,
      url: share.url,
      createdAt: new Date().toISOString(),
    });
  } catch (error) {
    // The share exists now and its secret is nowhere else: hand it to the user rather than lose it.
    const code = (error as { code?: ErrorCode }).code ?? "ERR_SHARE_RECORD";
    throw createError(
      code,
      `share create: share ${share.id} was created on ${server} (${share.url}) but its record was not stored: ${describeError(error)}; keep its secret, shown only this once: ${share.secret}`,
      { cause: error },
    );
  }
  if (options.json) {
    writeJson(io, { ok: true, sessionID, server, ...share, records: store.path });
    return;
  }
  io.stdout.write(
    `share created: ${share.url}\n` +
      `id:     ${share.id}\n` +
      `secret: ${share.secret}\n` +
      `The secret is shown only this once; it is stored in ${store.path} (mode 600).\n`,
  );
}

/** `share delete <sessionID>`: deletes the share on the server and forgets its record. */
export async function shareDeleteCommand(
  sessionID: string,
  options: ShareFlags,
  io: CliIo,
): Promise<void> {
  const chosen = resolveShareServer(options, io);
  const store = openShareRecords(io);
  const record = pickShareRecord("delete", sessionID, chosen, store);
  const http = shareHttpFor(record.server, chosen.connection);
  try {
    await interruptible(
      io,
      (signal) =>
        `share delete: ${signal} before share ${record.id} was deleted on ${record.server}`,
      (interrupt) =>
        shareRequest(
          chosen.connection,
          io,
          `share delete: no answer from ${record.server}`,
          (signal) => http.remove(record.id, record.secret, signal),
          interrupt,
        ),
    );
  } catch (error) {
    const code = (error as { code?: ErrorCode }).code;
    // The share is gone (404) or our secret is useless (401): either way the record is stale.
    if (code === "ERR_SHARE_NOT_FOUND" || code === "ERR_SHARE_SECRET") {
      await store.remove(sessionID, record.server, record.secret);
      throw createError(
        code,
        `${describeError(error)}; the local record of session ${JSON.stringify(sessionID)} was removed from ${store.path}`,
        { cause: error },
      );
    }
    throw error;
  }
  await store.remove(sessionID, record.server, record.secret);
  if (options.json) {
    writeJson(io, { ok: true, sessionID, id: record.id, server: record.server });
    return;
  }
  io.stdout.write(`share ${record.id} deleted from ${record.server}\n`);
}

function checkSessionId(command: string, sessionID: string): string {
  const id = shareIdOfSession(sessionID);
  if (id === undefined) {
    throw createError(
      "ERR_USAGE",
      `share ${command}: session id ${JSON.stringify(sessionID)} must be 8 to 200 of A-Z a-z 0-9 _ . : - and end in 8 of A-Z a-z 0-9 _ -`,
    );
  }
  return id;
}
