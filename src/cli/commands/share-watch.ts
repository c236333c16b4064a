// `syncline share watch <id>`: the share's state, then every live update until Ctrl-C, through
// the same viewer client the web viewer uses (reconnect with catch-up). Plain text for people
// (control characters stripped, so shared content cannot drive the terminal), or one JSON object
// per line with --json.

import { createError, type SynclineError } from "../../protocol/errors.js";
import { isShareId, parseShareKey, shareIdOfSession } from "../../protocol/share-items.js";
import { createViewerClient } from "../../share/client/viewer-client.js";
import type { ViewerClient, ViewerStatus } from "../../share/client/viewer-client-api.js";
import { webSocketClassFor } from "../../transport/dial-websocket.js";
import { createHttpFetch } from "../../transport/http-fetch.js";
import { httpUrl, parseServerAddress } from "../../transport/server-address.js";
import { announceRetry, type Connection, timeoutError } from "../connection.js";
import { type CliIo, writeJson } from "../io.js";
import {
  openShareRecords,
  resolveShareServer,
  type ShareFlags,
  type ShareServer,
} from "./share-settings.js";

/**
 * Options of `share watch`: the share settings' flags. --retries counts failed connections in a
 * row before the first success; --timeout bounds the wait for that first success.
 */
export type ShareWatchOptions = ShareFlags;

/**
 * Watches until a signal or the share's deletion (both exit 0), an unknown share (exit 5), or no
 * connection within the retries (exit 3) or the timeout (exit 7).
 */
export async function shareWatchCommand(
  target: string,
  options: ShareWatchOptions,
  io: CliIo,
): Promise<void> {
  const { id, server, connection } = watchTarget(target, options, io);
  const address = parseServerAddress(server);
  const fetch = createHttpFetch(address, { ca: connection.ca, context: "share watch" });
  const client = createViewerClient({
    server: httpUrl(address, ""),
    id,
    WebSocket: webSocketClassFor(address, connection.ca) as never,
    fetch: (url) => fetch(url, { method: "GET" }),
  });
  const watched: Watched = { id, server, json: Boolean(options.json) };
  renderFrames(client, watched, io);
  const end = await watchUntilDone(client, connection, io);
  finishWatch(end, client, watched, io);
}

/** The share being watched, and how to show it. */
interface Watched {
  readonly id: string;
  readonly server: string;
  /** One JSON object per line (--json) instead of text for people. */
  readonly json: boolean;
}

/** Why the watch ended: a final status or a signal, and the error to end with, if any. */
interface WatchEnd {
  readonly reason: ViewerStatus | NodeJS.Signals;
  readonly failure: SynclineError | undefined;
}

/** The share and server named by `target` (a viewer link, a share id or a session id). */
function watchTarget(
  target: string,
  options: ShareFlags,
  io: CliIo,
): { id: string; server: string; connection: Connection } {
  const fromUrl = viewerUrlTarget(target);
  const id = fromUrl?.id ?? shareIdOf(target);
  const chosen = resolveShareServer(options, io);
  const server = fromUrl && !chosen.chosen ? fromUrl.server : watchServer(id, chosen, io);
  return { id, server, connection: chosen.connection };
}

/** Shows every snapshot, update and status: JSON lines, or text for people. */
function renderFrames(client: ViewerClient, watched: Watched, io: CliIo): void {
  const { id, server, json } = watched;
  const out = (line: string) => io.stdout.write(`${line}\n`);
  let everLive = false;
  client.on("snapshot", (state, seq) => {
    if (json) {
      writeJson(io, { type: "snapshot", id, seq, state: Object.fromEntries(state) });
      return;
    }
    out(`share ${id} on ${server}: ${state.size} item(s), seq ${seq}`);
    for (const key of [...state.keys()].sort()) out(`  ${describeItem(key, state.get(key))}`);
  });
  client.on("update", (frame) => {
    if (json) writeJson(io, { type: "update", ...frame });
    else out(`#${frame.seq} ${describeItem(frame.key, frame.content)}`);
  });
  client.on("status", (status) => {
    // The first "live" is the normal start and stays quiet for people; later ones are reconnects.
    const reconnected = status === "live" && everLive;
    if (status === "live") everLive = true;
    if (json) writeJson(io, { type: "status", status });
    else if (status !== "live" || reconnected) io.stderr.write(`share ${id}: ${status}\n`);
  });
}

/**
 * Connects and waits for deletion, an unknown share, a signal, too many failed connections or
 * no first connection within the timeout.
 */
async function watchUntilDone(
  client: ViewerClient,
  connection: Connection,
  io: CliIo,
): Promise<WatchEnd> {
  const { retries } = connection;
  let everLive = false;
  let failure: SynclineError | undefined;
  let finish!: (status: ViewerStatus | NodeJS.Signals) => void;
  const done = new Promise<ViewerStatus | NodeJS.Signals>((resolve) => {
    finish = resolve;
  });
  client.on("status", (status) => {
    if (status === "live") {
      everLive = true;
      clearTimeout(firstConnection);
    }
    if (status === "deleted" || status === "not-found") finish(status);
  });
  client.on("retry", (info) => {
    // Before the first success, --retries bounds the attempts; after it, reconnects go on.
    if (everLive) return;
    if (info.attempt > retries) {
      failure = createError(
        "ERR_CONNECT",
        `share watch: cannot connect to ${client.url} after ${info.attempt} attempt(s): ${info.error?.message ?? "no answer"}`,
      );
      finish("closed");
      return;
    }
    const error = info.error ?? createError("ERR_CONNECT", "the connection failed");
    announceRetry(io, retries, { attempt: info.attempt + 1, delayMs: info.delayMs, error });
  });
  const firstConnection = setTimeout(() => {
    failure = timeoutError(`share watch: no connection to ${client.url}`, connection.timeoutMs);
    finish("closed");
  }, connection.timeoutMs);
  const stopSignal = io.onSignal((signal) => finish(signal));
  client.connect();
  const reason = await done;
  clearTimeout(firstConnection);
  stopSignal();
  client.close();
  return { reason, failure };
}

/**
 * The exit for how the watch ended: deletion and a signal (Ctrl-C is how a watch is meant to
 * end) are normal ends (0, with `{type: "end", ok: true}` under --json); anything else throws.
 */
function finishWatch(end: WatchEnd, client: ViewerClient, watched: Watched, io: CliIo): void {
  const { id, server } = watched;
  if (end.failure) throw end.failure;
  if (end.reason === "not-found") {
    throw createError(
      "ERR_SHARE_NOT_FOUND",
      `share watch: ${server} has no share ${JSON.stringify(id)}`,
    );
  }
  const reason = end.reason === "deleted" ? "deleted" : "interrupted";
  if (watched.json) {
    writeJson(io, { type: "end", ok: true, reason, id, seq: client.seq });
  } else if (reason === "deleted") {
    io.stderr.write(`share ${id} was deleted by its owner\n`);
  }
}

/** The chosen server; else the server of a share of ours with that id; else the default. */
function watchServer(id: string, chosen: ShareServer, io: CliIo): string {
  if (chosen.chosen) return chosen.server;
  const servers = new Set(
    openShareRecords(io)
      .list()
      .filter((record) => record.id === id)
      .map((record) => record.server),
  );
  return servers.size === 1 ? ([...servers][0] as string) : chosen.server;
}

/** `http(s)://host/share/<id>` or `…/s/<id>` (a viewer link) → its server and id. */
function viewerUrlTarget(target: string): { server: string; id: string } | undefined {
  if (!/^https?:\/\//.test(target)) return undefined;
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return undefined;
  }
  const match = /^(.*)\/(?:share|s)\/([^/]+)\/?$/.exec(url.pathname);
  if (!match) return undefined;
  return {
    server: `${url.origin}${match[1]}`,
    id: shareIdOf(decodeURIComponent(match[2] as string)),
  };
}

/** A share id, or a session id (its last 8 characters). */
function shareIdOf(target: string): string {
  if (isShareId(target)) return target;
  const id = shareIdOfSession(target);
  if (id !== undefined) return id;
  throw createError(
    "ERR_USAGE",
    `share watch: ${JSON.stringify(target)} is not a share id (8 of A-Z a-z 0-9 _ -), a session id or a viewer link http(s)://host/share/<id>`,
  );
}

/** One line about an item, for people. */
export function describeItem(key: string, content: unknown): string {
  const parsed = parseShareKey(key);
  const data = (typeof content === "object" && content !== null ? content : {}) as Record<
    string,
    unknown
  >;
  const text = (value: unknown) => clean(typeof value === "string" ? value : "");
  switch (parsed?.kind) {
    case "info":
      return `session ${clean(parsed.sessionID)}: ${text(data.title) || "(untitled)"}`;
    case "message": {
      const model = typeof data.modelID === "string" ? ` (${text(data.modelID)})` : "";
      return `message ${clean(parsed.messageID)}: ${text(data.role) || "?"}${model}`;
    }
    case "part":
      return `part ${clean(parsed.messageID)}/${clean(parsed.partID)}: ${describePart(data)}`;
    case "diff":
      return `diff: ${Array.isArray(content) ? content.length : "?"} file(s)`;
    case "model":
      return `models: ${Array.isArray(content) ? content.map((m) => text((m as { name?: unknown })?.name) || "?").join(", ") : "?"}`;
    default:
      return `${clean(key)}: ${clean(JSON.stringify(content) ?? "")}`;
  }
}

function describePart(data: Record<string, unknown>): string {
  const type = typeof data.type === "string" ? clean(data.type) : "?";
  switch (type) {
    case "text":
    case "reasoning":
      return `${type}: ${clean(String(data.text ?? ""))}`;
    case "tool": {
      const state = (data.state ?? {}) as Record<string, unknown>;
      const title = typeof state.title === "string" ? ` ${clean(state.title)}` : "";
      return `tool ${clean(String(data.tool ?? "?"))} [${clean(String(state.status ?? "?"))}]${title}`;
    }
    case "file":
      return `file ${clean(String(data.filename ?? data.url ?? ""))}`;
    default:
      return type;
  }
}

/** One line of at most 200 characters with no control characters (no terminal escapes). */
function clean(value: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping them is the point
  const flat = value.replace(/[\u0000-\u001f\u007f-\u009f]+/g, " ").trim();
  return flat.length > 200 ? `${flat.slice(0, 200)}…` : flat;
}
