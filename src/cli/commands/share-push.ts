// `syncline share push <sessionID> < items.jsonl`: streams JSONL items from stdin through the
// client queue (1 s window, dedupe, retry), warns per bad line or refused item, and exits once the
// items are flushed (or the wait runs out).

import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import type { ErrorCode } from "../../protocol/error-table.js";
import { createError, describeError, type SynclineError } from "../../protocol/errors.js";
import { keyOfItem, type ShareItem } from "../../protocol/share-items.js";
import {
  type CloseResult,
  createShareQueue,
  type ShareQueue,
} from "../../share/client/share-queue.js";
import type { ShareRecords } from "../../share/client/share-queue-options.js";
import { interruptedError } from "../exit-error.js";
import { type CliIo, writeJson } from "../io.js";
import type { ShareRecord, ShareRecordStore } from "./share-records.js";
import {
  openShareRecords,
  pickShareRecord,
  resolveShareServer,
  type ShareFlags,
  shareHttpFor,
} from "./share-settings.js";

/** Options of `share push`: the share settings' flags (--timeout: the wait at the end). */
export type SharePushOptions = ShareFlags;

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
  /** Failed attempts of one batch in a row past --retries: the push gives up. */
  gaveUp: number | undefined;
}

/** One push under way: where it goes, its queue and what it has seen so far. */
interface Push {
  readonly sessionID: string;
  readonly id: string;
  readonly server: string;
  /** The share records file, named when a refused secret makes us forget the record. */
  readonly recordsPath: string;
  readonly queue: ShareQueue;
  readonly report: PushReport;
  /** The last input line that set each key, so refusals can name lines. */
  readonly lineOfKey: Map<string, number>;
  readonly warn: (message: string) => void;
  /** --retries: failed attempts of a batch after the first before the push gives up. */
  readonly retries: number;
  /** Aborted when the push gives up: reading stops, the queue closes at once. */
  readonly abandon: AbortController;
}

/** `share push <sessionID> < items.jsonl`: one `{type, data}` item per line, through the queue. */
export async function sharePushCommand(
  sessionID: string,
  options: SharePushOptions,
  io: CliIo,
  input: Readable = process.stdin,
): Promise<void> {
  const chosen = resolveShareServer(options, io);
  const { timeoutMs } = chosen.connection;
  const store = openShareRecords(io);
  const record = pickShareRecord("push", sessionID, chosen, store);
  const { id, server } = record;
  const queue = createShareQueue({
    http: shareHttpFor(server, chosen.connection),
    records: pushRecords(sessionID, record, store),
  });
  const push: Push = {
    sessionID,
    id,
    server,
    recordsPath: store.path,
    queue,
    report: emptyReport(),
    lineOfKey: new Map(),
    warn: (message) => io.stderr.write(`syncline: share push: ${message}\n`),
    retries: chosen.connection.retries,
    abandon: new AbortController(),
  };
  reportQueueEvents(push);
  const interrupted = await pushLines(push, input, io);
  // After a signal the user wants out: wait only briefly for what was read.
  const closeWaitMs = push.abandon.signal.aborted ? 0 : timeoutMs;
  const closed = await queue.close(interrupted ? Math.min(timeoutMs, 2000) : closeWaitMs);
  if (interrupted) throw pushInterrupted(push.report, interrupted, closed);
  throwIfFailed(push.report, closed, { id, server, timeoutMs });
  writeSummary(push, options, io);
}

/** The queue's view of the one record pushed to; forgetting it also removes it from the file. */
function pushRecords(
  sessionID: string,
  chosen: ShareRecord,
  store: ShareRecordStore,
): ShareRecords {
  let record: ShareRecord | undefined = chosen;
  return {
    get: (session) => (session === sessionID ? record : undefined),
    remove: async () => {
      record = undefined;
      // Only the record whose secret was refused: a newer one stored meanwhile stays.
      await store.remove(sessionID, chosen.server, chosen.secret);
    },
  };
}

function emptyReport(): PushReport {
  return {
    lines: 0,
    items: 0,
    badLines: 0,
    requests: 0,
    seq: undefined,
    refused: undefined,
    stopped: undefined,
    lastRetry: undefined,
    gaveUp: undefined,
  };
}

/** Tallies the queue's events into the report, warning on stderr as they happen. */
function reportQueueEvents(push: Push): void {
  const { queue, report, warn, id, server } = push;
  queue.on("synced", (event) => {
    report.requests += 1;
    report.seq = event.seq ?? report.seq;
    for (const ignored of event.ignored) {
      warn(`the server ignored ${ignored.key ?? `item ${ignored.index}`}: ${ignored.reason ?? ""}`);
    }
    const unlisted = event.ignoredCount - event.ignored.length;
    if (unlisted > 0) {
      warn(
        `the server ignored ${unlisted} more item(s) it did not list (${event.ignoredCount} in all)`,
      );
    }
  });
  queue.on("retry", (event) => {
    report.lastRetry = { status: event.status, message: event.message };
    const failed = `sync of share ${id} to ${server} failed: ${event.message}`;
    if (event.attempt > push.retries) {
      report.gaveUp = event.attempt;
      push.abandon.abort();
      return;
    }
    warn(
      `${failed}; retrying in ${(event.delayMs / 1000).toFixed(1)} s (attempt ${event.attempt + 1} of ${push.retries + 1})`,
    );
  });
  queue.on("rejected", (event) => {
    report.refused = {
      status: event.status,
      count: (report.refused?.count ?? 0) + event.items.length,
    };
    for (const item of event.items) {
      warn(
        `line ${push.lineOfKey.get(item.key) ?? "?"}: the server refused ${item.key} (${event.status}): ${item.reason ?? event.message}`,
      );
    }
  });
  reportQueueStops(push);
}

/** Records why the queue stopped for good (401, 404): the push then fails with that error. */
function reportQueueStops(push: Push): void {
  const { queue, report, id, server } = push;
  queue.on("unauthorized", (event) => {
    report.stopped = {
      code: "ERR_SHARE_SECRET",
      message: `share push: ${server} refused the secret of share ${id} (401: ${event.message}); ${
        event.recordError === undefined
          ? `the local record was removed from ${push.recordsPath}`
          : `the local record could not be removed: ${describeError(event.recordError)}`
      }, ${event.dropped.length} item(s) not sent`,
    };
  });
  queue.on("not-found", (event) => {
    report.stopped = {
      code: "ERR_SHARE_NOT_FOUND",
      message: `share push: ${server} has no share ${id} (404: ${event.message}); ${event.dropped.length} item(s) not sent`,
    };
  });
}

/** Reads `input` line by line into the queue until it ends, the queue stops or a signal comes. */
async function pushLines(
  push: Push,
  input: Readable,
  io: CliIo,
): Promise<NodeJS.Signals | undefined> {
  let interrupted: NodeJS.Signals | undefined;
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  const stopSignal = io.onSignal((signal) => {
    interrupted = signal;
    lines.close();
  });
  push.abandon.signal.addEventListener("abort", () => lines.close(), { once: true });
  try {
    for await (const line of lines) {
      if (push.abandon.signal.aborted) break;
      push.report.lines += 1;
      if (line.trim() === "") continue;
      if (pushLine(push, line) === "stopped") break;
    }
  } finally {
    stopSignal();
  }
  return interrupted;
}

/** Queues one non-blank line, or counts and warns about it when it is not a valid item. */
function pushLine(push: Push, line: string): "queued" | "stopped" {
  const { report, warn } = push;
  const item = parseLine(line, report.lines);
  if (typeof item === "string") {
    report.badLines += 1;
    warn(item);
    return "queued";
  }
  const key = keyOfItem(item, push.sessionID);
  if ("key" in key) push.lineOfKey.set(key.key, report.lines);
  const result = push.queue.sync(push.sessionID, [item]);
  if (result.stopped) return "stopped";
  for (const invalid of result.invalid) {
    report.badLines += 1;
    warn(`line ${report.lines}: ${invalid.reason}`);
  }
  report.items += result.queued;
  return "queued";
}

function pushInterrupted(
  report: PushReport,
  signal: NodeJS.Signals,
  closed: CloseResult,
): SynclineError {
  return interruptedError(
    `share push: ${signal} after ${report.lines} line(s); ${closed.delivered ? "everything read so far was sent" : `${countKeys(closed.undelivered)} item(s) not sent`}`,
    signal,
  );
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
    const why = last ? `; last failure: ${last.message}` : "";
    const where = `share ${context.id} on ${context.server}`;
    if (report.gaveUp !== undefined) {
      // Out of retries: the server could not be reached (exit 3), or kept failing.
      const code =
        last?.status === undefined
          ? "ERR_CONNECT"
          : last.status === 503
            ? "ERR_SHARE_STORAGE"
            : "ERR_UNEXPECTED";
      throw createError(
        code,
        `share push: ${count} item(s) not delivered to ${where}: gave up after ${report.gaveUp} attempts (--retries)${why}`,
      );
    }
    throw createError(
      "ERR_TIMEOUT",
      `share push: ${count} item(s) not delivered to ${where} within ${context.timeoutMs / 1000} s (--timeout)${why}`,
    );
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

function writeSummary(push: Push, options: SharePushOptions, io: CliIo): void {
  const { sessionID, id, server, report } = push;
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

function countKeys(undelivered: ReadonlyArray<{ keys: readonly string[] }>): number {
  return undelivered.reduce((sum, entry) => sum + entry.keys.length, 0);
}

function truncate(text: string): string {
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}
