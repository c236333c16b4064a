// `syncline share create|push|delete`: publishing a session as a live share. The secret is shown
// once by create and kept in the user's share records (mode 0600); push streams JSONL items from
// stdin through the client queue (1 s window, dedupe, retry) and exits once they are flushed.

import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { createError, describeError, type ErrorCode } from "../../protocol/errors.js";
import { keyOfItem, type ShareItem, shareIdOfSession } from "../../protocol/share-items.js";
import { createShareHttp } from "../../share/client/share-http.js";
import { createShareQueue, type ShareRecords } from "../../share/client/share-queue.js";
import { ExitError, exitCodes } from "../exit-error.js";
import { type CliIo, writeJson } from "../io.js";
import {
  openShareRecords,
  pickShareRecord,
  resolveShareServer,
  type ShareFlags,
} from "./share-settings.js";

/** `share create <sessionID>`: creates the share, stores its record, prints id, url, secret. */
export async function shareCreateCommand(
  sessionID: string,
  options: ShareFlags,
  io: CliIo,
): Promise<void> {
  const id = checkSessionId("create", sessionID);
  const { server } = resolveShareServer(options, io);
  const store = openShareRecords(io);
  const existing = store.find(sessionID, server)[0];
  if (existing) {
    throw createError(
      "ERR_SHARE_EXISTS",
      `share create: session ${JSON.stringify(sessionID)} is already shared on ${server} as ${existing.id} (${existing.url}); its record is in ${store.path}`,
    );
  }
  const share = await createShareHttp({ server }).create(sessionID);
  if (share.id !== id) {
    io.stderr.write(
      `syncline: warning: the server named the share ${share.id}, not ${id} (the session id's last 8 characters)\n`,
    );
  }
  store.add({
    sessionID,
    id: share.id,
    secret: share.secret,
    server,
    url: share.url,
    createdAt: new Date().toISOString(),
  });
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
  try {
    await createShareHttp({ server: record.server }).remove(record.id, record.secret);
  } catch (error) {
    const code = (error as { code?: ErrorCode }).code;
    // The share is gone (404) or our secret is useless (401): either way the record is stale.
    if (code === "ERR_SHARE_NOT_FOUND" || code === "ERR_SHARE_SECRET") {
      store.remove(sessionID, record.server);
      throw createError(
        code,
        `${describeError(error)}; the local record of session ${JSON.stringify(sessionID)} was removed from ${store.path}`,
        { cause: error },
      );
    }
    throw error;
  }
  store.remove(sessionID, record.server);
  if (options.json) {
    writeJson(io, { ok: true, sessionID, id: record.id, server: record.server });
    return;
  }
  io.stdout.write(`share ${record.id} deleted from ${record.server}\n`);
}

/** Options of `share push`. */
export interface SharePushOptions extends ShareFlags {
  /** Longest wait, in seconds, for pending items once the input ends. Default 30. */
  readonly timeout?: string;
}

/** Tallies of a push, and the first failure of each kind. */
interface PushReport {
  lines: number;
  items: number;
  badLines: number;
  requests: number;
  seq: number | undefined;
  refused: { status: number; count: number } | undefined;
  stopped: { code: ErrorCode; message: string } | undefined;
  lastRetry: { status: number | undefined; message: string } | undefined;
}

/** `share push <sessionID> < items.jsonl`: one `{type, data}` item per line, through the queue. */
export async function sharePushCommand(
  sessionID: string,
  options: SharePushOptions,
  io: CliIo,
  input: Readable = process.stdin,
): Promise<void> {
  const timeoutMs = parseTimeout(options.timeout);
  const chosen = resolveShareServer(options, io);
  const store = openShareRecords(io);
  let record: ReturnType<typeof pickShareRecord> | undefined = pickShareRecord(
    "push",
    sessionID,
    chosen,
    store,
  );
  const { id, server } = record;
  const records: ShareRecords = {
    get: (session) => (session === sessionID ? record : undefined),
    remove: () => {
      record = undefined;
      store.remove(sessionID, server);
    },
  };
  const queue = createShareQueue({ http: createShareHttp({ server }), records });
  const report: PushReport = {
    lines: 0,
    items: 0,
    badLines: 0,
    requests: 0,
    seq: undefined,
    refused: undefined,
    stopped: undefined,
    lastRetry: undefined,
  };
  /** The last input line that set each key, so refusals can name lines. */
  const lineOfKey = new Map<string, number>();
  const warn = (message: string) => io.stderr.write(`syncline: share push: ${message}\n`);
  queue.on("synced", (event) => {
    report.requests += 1;
    report.seq = event.seq ?? report.seq;
    for (const ignored of event.ignored) {
      warn(`the server ignored ${ignored.key ?? `item ${ignored.index}`}: ${ignored.reason ?? ""}`);
    }
  });
  queue.on("retry", (event) => {
    report.lastRetry = { status: event.status, message: event.message };
    warn(
      `sync of share ${id} to ${server} failed (${event.message}); retry ${event.attempt} in ${(event.delayMs / 1000).toFixed(1)} s`,
    );
  });
  queue.on("rejected", (event) => {
    report.refused = {
      status: event.status,
      count: (report.refused?.count ?? 0) + event.items.length,
    };
    for (const item of event.items) {
      warn(
        `line ${lineOfKey.get(item.key) ?? "?"}: the server refused ${item.key} (${event.status}): ${item.reason ?? event.message}`,
      );
    }
  });
  queue.on("unauthorized", (event) => {
    report.stopped = {
      code: "ERR_SHARE_SECRET",
      message: `share push: ${server} refused the secret of share ${id} (401: ${event.message}); the local record was removed from ${store.path}, ${event.dropped.length} item(s) not sent`,
    };
  });
  queue.on("not-found", (event) => {
    report.stopped = {
      code: "ERR_SHARE_NOT_FOUND",
      message: `share push: ${server} has no share ${id} (404: ${event.message}); ${event.dropped.length} item(s) not sent`,
    };
  });

  let interrupted: NodeJS.Signals | undefined;
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  const stopSignal = io.onSignal((signal) => {
    interrupted = signal;
    lines.close();
  });
  try {
    for await (const line of lines) {
      report.lines += 1;
      if (line.trim() === "") continue;
      const item = parseLine(line, report.lines);
      if (typeof item === "string") {
        report.badLines += 1;
        warn(item);
        continue;
      }
      const key = keyOfItem(item, sessionID);
      if ("key" in key) lineOfKey.set(key.key, report.lines);
      const result = queue.sync(sessionID, [item]);
      if (result.stopped) break;
      for (const invalid of result.invalid) {
        report.badLines += 1;
        warn(`line ${report.lines}: ${invalid.reason}`);
      }
      report.items += result.queued;
    }
  } finally {
    stopSignal();
  }
  const closed = await queue.close(interrupted ? Math.min(timeoutMs, 2000) : timeoutMs);
  if (interrupted) {
    throw new ExitError(
      exitCodes.interrupted,
      "ERR_CONNECTION_CLOSED",
      `share push: ${interrupted} after ${report.lines} line(s); ${closed.delivered ? "everything read so far was sent" : `${countKeys(closed.undelivered)} item(s) not sent`}`,
    );
  }
  throwIfFailed(report, closed, { id, server, timeoutMs });
  const summary = {
    ok: true,
    sessionID,
    id,
    server,
    lines: report.lines,
    items: report.items,
    requests: report.requests,
    seq: report.seq,
  };
  if (options.json) writeJson(io, summary);
  else {
    io.stdout.write(
      `pushed ${report.items} item(s) from ${report.lines} line(s) to share ${id} on ${server} in ${report.requests} request(s)${report.seq === undefined ? "" : `, seq ${report.seq}`}\n`,
    );
  }
}

function throwIfFailed(
  report: PushReport,
  closed: { delivered: boolean; undelivered: ReadonlyArray<{ keys: readonly string[] }> },
  context: { id: string; server: string; timeoutMs: number },
): void {
  if (report.stopped) throw createError(report.stopped.code, report.stopped.message);
  if (!closed.delivered) {
    const count = countKeys(closed.undelivered);
    const last = report.lastRetry;
    const why = last ? `: ${last.message}` : "";
    const message = `share push: ${count} item(s) not delivered to share ${context.id} on ${context.server} within ${context.timeoutMs / 1000} s${why}`;
    if (last?.status === undefined) throw createError("ERR_CONNECT", message);
    throw createError(last.status === 503 ? "ERR_SHARE_STORAGE" : "ERR_UNEXPECTED", message);
  }
  if (report.refused) {
    throw createError(
      report.refused.status === 413 ? "ERR_SHARE_TOO_LARGE" : "ERR_SHARE_REQUEST",
      `share push: the server refused ${report.refused.count} item(s) of share ${context.id} (${report.refused.status}); the rest were sent (see the lines above)`,
    );
  }
  if (report.badLines > 0) {
    throw createError(
      "ERR_SHARE_ITEM",
      `share push: ${report.badLines} bad input line(s) skipped (see above); the other items were sent`,
    );
  }
}

/** The item on `line`, or a message saying why it is not one. */
function parseLine(line: string, number: number): ShareItem | string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    return `line ${number}: not JSON (${describeError(error)}): ${truncate(line)}`;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return `line ${number}: not an object {type, data}: ${truncate(line)}`;
  }
  const { type, data } = value as Record<string, unknown>;
  if (typeof type !== "string") {
    return `line ${number}: "type" must be a string, got ${truncate(JSON.stringify(type) ?? "undefined")}`;
  }
  if (data === undefined) return `line ${number}: "data" is missing`;
  return { type, data };
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

function parseTimeout(value: string | undefined): number {
  if (value === undefined) return 30_000;
  const seconds = /^\d+(\.\d+)?$/.test(value) ? Number(value) : Number.NaN;
  if (!(seconds > 0 && seconds <= 86_400)) {
    throw createError(
      "ERR_INVALID_CONFIG",
      `share push: --timeout must be a number of seconds above 0 (at most 86400), got ${JSON.stringify(value)}`,
    );
  }
  return Math.round(seconds * 1000);
}

function countKeys(undelivered: ReadonlyArray<{ keys: readonly string[] }>): number {
  return undelivered.reduce((sum, entry) => sum + entry.keys.length, 0);
}

function truncate(text: string): string {
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}
