// The share HTTP API (docs/protocol.md) seen from a publisher: create, sync, delete, read, each with an
// injected fetch. Answers are classified, never thrown, where the caller must decide (the queue
// retries 5xx, forgets the record on 401, stops on 404, drops offending items on 400/413).

import {
  createError,
  describeError,
  isErrorCode,
  isSynclineError,
  type SynclineError,
} from "../../protocol/errors.js";
import type { ShareItem } from "../../protocol/share-items.js";

/** The subset of `fetch` the client uses; Node 20's global fetch fits. */
export type FetchLike = (
  url: string,
  init: {
    method: string;
    headers?: Record<string, string>;
    body?: string;
    signal?: AbortSignal;
  },
) => Promise<{
  readonly status: number;
  text(): Promise<string>;
}>;

/** A share as `POST /api/share` answers it. */
export interface CreatedShare {
  readonly id: string;
  readonly secret: string;
  readonly url: string;
}

/** One item the server names in an answer (413's `items`, 200's `ignored`). */
export interface NamedItem {
  /** Index into the request's `data`, when the server gave it. */
  readonly index?: number;
  /** The item's key, when the server gave it. */
  readonly key?: string;
  /** Why, when the server said. */
  readonly reason?: string;
  /**
   * The error code of an item refused on its own while the rest of its batch was applied
   * (ERR_SHARE_TOO_LARGE: over the server's item limit); absent for one off the key schema.
   */
  readonly code?: string;
}

/**
 * What `POST /api/share/:id/sync` answered, classified for the queue. Every outcome but `ok`
 * carries `error`: the SynclineError the answer stands for (the server's own code when it sent
 * one, else the code its status means), for the queue's events.
 */
export type SyncOutcome =
  | {
      readonly kind: "ok";
      readonly seq: number | undefined;
      readonly accepted: number | undefined;
      /** Items the server ignored (off the key schema), as it named them. */
      readonly ignored: readonly NamedItem[];
      /**
       * How many items the server ignored in all: its `ignoredCount`, which is more than
       * `ignored.length` when it listed only the first ones (it lists at most 100).
       */
      readonly ignoredCount: number;
    }
  /** A network error, a timeout or a 5xx (or 408/429): retry with backoff. */
  | {
      readonly kind: "retry";
      readonly status: number | undefined;
      readonly message: string;
      readonly error: SynclineError;
    }
  | { readonly kind: "unauthorized"; readonly message: string; readonly error: SynclineError }
  | { readonly kind: "not-found"; readonly message: string; readonly error: SynclineError }
  /**
   * 400 or 413 (status 0: refused before sending, not serializable); `items` lists the offending
   * items the server named (may be empty).
   */
  | {
      readonly kind: "rejected";
      readonly status: number;
      readonly message: string;
      readonly items: readonly NamedItem[];
      readonly error: SynclineError;
    };

/** Where the API lives and how to reach it. */
export interface ShareHttpOptions {
  /** The server's base URL, `http(s)://host:port[/prefix]` (ws(s):// is mapped to http(s)://). */
  readonly server: string;
  /** Default globalThis.fetch. */
  readonly fetch?: FetchLike;
  /** Sent with `create` as `Authorization: Bearer`, for a server that needs it to create. */
  readonly createToken?: string | undefined;
}

/** A publisher's HTTP client for one server. */
export interface ShareHttp {
  /** The base URL requests go to (http(s)://, no trailing slash). */
  readonly baseUrl: string;
  /**
   * `POST /api/share`; throws ERR_SHARE_EXISTS (a 200 without a secret: the session was shared
   * already; or an older server's 409), ERR_CONNECT, or the server's error.
   */
  create(sessionID: string, signal?: AbortSignal): Promise<CreatedShare>;
  /** `POST /api/share/:id/sync`; never throws: the answer is classified. */
  sync(
    id: string,
    secret: string,
    items: readonly ShareItem[],
    signal?: AbortSignal,
  ): Promise<SyncOutcome>;
  /** `DELETE /api/share/:id`; throws ERR_SHARE_SECRET (401), ERR_SHARE_NOT_FOUND (404), ERR_CONNECT. */
  remove(id: string, secret: string, signal?: AbortSignal): Promise<void>;
}

/** The http(s):// base URL of a server given as http(s):// or ws(s)://; throws on anything else. */
export function httpBaseUrl(server: string): string {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw createError(
      "ERR_INVALID_SERVER_URL",
      `share: server ${JSON.stringify(server)} is not an http(s):// or ws(s):// url`,
    );
  }
  if (url.protocol === "ws:") url.protocol = "http:";
  else if (url.protocol === "wss:") url.protocol = "https:";
  else if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw createError(
      "ERR_INVALID_SERVER_URL",
      `share: server ${JSON.stringify(server)} is not an http(s):// or ws(s):// url`,
    );
  }
  url.search = "";
  url.hash = "";
  return url.toString().replace(/\/+$/, "");
}

/** Creates the HTTP client for `options.server`. */
export function createShareHttp(options: ShareHttpOptions): ShareHttp {
  const baseUrl = httpBaseUrl(options.server);
  const fetchFn = options.fetch ?? (globalThis.fetch as unknown as FetchLike);
  const request = (
    method: string,
    path: string,
    body: unknown,
    signal?: AbortSignal,
    headers: Record<string, string> = {},
  ) => sendRequest(fetchFn, `${baseUrl}${path}`, { method, body, signal, headers });
  const createHeaders: Record<string, string> =
    options.createToken === undefined ? {} : { authorization: `Bearer ${options.createToken}` };
  const idPath = (id: string) => `/api/share/${encodeURIComponent(id)}`;

  return {
    baseUrl,
    async create(sessionID, signal) {
      const answer = await request("POST", "/api/share", { sessionID }, signal, createHeaders);
      return createdShareOf(answer, baseUrl, sessionID);
    },
    async sync(id, secret, items, signal) {
      const unsendable = unserializableItems(items);
      if (unsendable) return unsendable;
      let answer: Answer;
      try {
        answer = await request("POST", `${idPath(id)}/sync`, { secret, data: items }, signal);
      } catch (error) {
        // sendRequest throws only SynclineErrors (ERR_CONNECT, or a fetch of ours explaining).
        const failure = isSynclineError(error)
          ? error
          : createError("ERR_CONNECT", `share sync: ${describeError(error)}`, { cause: error });
        return { kind: "retry", status: undefined, message: failure.message, error: failure };
      }
      return classifySync(answer.status, answer.json, answer.text);
    },
    async remove(id, secret, signal) {
      const { status, json, text } = await request("DELETE", idPath(id), { secret }, signal);
      if (status === 200 || status === 204) return;
      throw answerError(`share delete: share ${JSON.stringify(id)}`, status, json, text);
    },
  };
}

/** A server's answer: its status, its body as text, and that body parsed when it is JSON. */
interface Answer {
  readonly status: number;
  readonly json: unknown;
  readonly text: string;
}

/** Sends one JSON request; throws ERR_CONNECT when no answer arrives, whatever the status. */
async function sendRequest(
  fetchFn: FetchLike,
  url: string,
  init: {
    method: string;
    body: unknown;
    signal: AbortSignal | undefined;
    headers: Record<string, string>;
  },
): Promise<Answer> {
  const { method, body, signal } = init;
  let response: Awaited<ReturnType<FetchLike>>;
  let text: string;
  try {
    response = await fetchFn(url, {
      method,
      headers: { "content-type": "application/json", ...init.headers },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
    text = await response.text();
  } catch (error) {
    // A fetch of ours explains the failure itself; the global fetch says only "fetch failed".
    if (isSynclineError(error)) throw error;
    throw createError("ERR_CONNECT", `share: ${method} ${url} failed: ${networkError(error)}`, {
      cause: error,
    });
  }
  return { status: response.status, json: parseJson(text), text };
}

/** The body as JSON; undefined when empty or not JSON (errorMessage then falls back to the text). */
function parseJson(text: string): unknown {
  try {
    return text === "" ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The share a create answer describes; throws when it is not a success or lacks a field. */
function createdShareOf(answer: Answer, baseUrl: string, sessionID: string): CreatedShare {
  const { status, json, text } = answer;
  if (status !== 200 && status !== 201) {
    throw answerError(`share create: session ${JSON.stringify(sessionID)}`, status, json, text);
  }
  const share = json as Partial<CreatedShare> | undefined;
  if (
    typeof share?.id === "string" &&
    typeof share.secret === "string" &&
    typeof share.url === "string"
  ) {
    return { id: share.id, secret: share.secret, url: share.url };
  }
  if (status === 200 && typeof share?.id === "string" && typeof share.url === "string") {
    // The session was shared already: the server keeps only the secret's hash and never
    // returns it to a caller that did not send it.
    throw createError(
      "ERR_SHARE_EXISTS",
      `share create: session ${JSON.stringify(sessionID)} is already shared on ${baseUrl} as ${share.id} (${share.url}); the server returns its secret only to whoever sends it`,
      { status },
    );
  }
  throw createError(
    "ERR_UNEXPECTED",
    `share create: ${baseUrl} answered ${status} without {id, secret, url}: ${text.slice(0, 200)}`,
  );
}

/** A rejection when `items` cannot be serialized, else undefined. */
function unserializableItems(items: readonly ShareItem[]): SyncOutcome | undefined {
  try {
    JSON.stringify(items);
    return undefined;
  } catch (error) {
    // Never sendable (a cycle, a BigInt): refused like a 400, so the queue drops just that item.
    const message = `share sync: an item cannot be serialized as JSON: ${describeError(error)}`;
    return {
      kind: "rejected",
      status: 0,
      message,
      items: [],
      error: createError("ERR_SHARE_ITEM", message, { cause: error }),
    };
  }
}

/** A network failure's text; fetch says only "fetch failed", its cause says why (ECONNREFUSED…). */
function networkError(error: unknown): string {
  const cause = (error as { cause?: unknown } | null)?.cause;
  return cause === undefined
    ? describeError(error)
    : `${describeError(error)}: ${describeError(cause)}`;
}

/** Classifies a sync answer; tolerant of the body's shape (ours, older servers', and the 413 `items` list). */
export function classifySync(status: number, json: unknown, text: string): SyncOutcome {
  const message = errorMessage(status, json, text);
  if (status >= 200 && status < 300) {
    const body = (typeof json === "object" && json !== null ? json : {}) as Record<string, unknown>;
    const accepted = body.accepted;
    const ignored = namedItems(body.ignored);
    // A server without ignoredCount (or with a bad one) listed every item it ignored.
    const count = body.ignoredCount;
    const ignoredCount =
      typeof count === "number" && Number.isSafeInteger(count) && count > ignored.length
        ? count
        : ignored.length;
    return {
      kind: "ok",
      seq: typeof body.seq === "number" ? body.seq : undefined,
      accepted:
        typeof accepted === "number"
          ? accepted
          : Array.isArray(accepted)
            ? accepted.length
            : undefined,
      ignored,
      ignoredCount,
    };
  }
  const error = (retryable?: boolean) => answerError("share sync", status, json, text, retryable);
  if (status === 401 || status === 403) return { kind: "unauthorized", message, error: error() };
  if (status === 404 || status === 410) return { kind: "not-found", message, error: error() };
  if (status === 400 || status === 413 || status === 422) {
    const body = (typeof json === "object" && json !== null ? json : {}) as Record<string, unknown>;
    const named = (body.error ?? {}) as Record<string, unknown>;
    const items = namedItems(body.items ?? named.items ?? body.rejected ?? body.invalid);
    return { kind: "rejected", status, message, items, error: error() };
  }
  // 5xx, 408, 429 and anything unexpected: the batch is kept and retried.
  return { kind: "retry", status, message, error: error(true) };
}

/** Reads a list of items the server named: indexes, keys, or `{index, key, reason}` objects. */
function namedItems(value: unknown): NamedItem[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((entry): NamedItem[] => {
    if (typeof entry === "number" && Number.isSafeInteger(entry)) return [{ index: entry }];
    if (typeof entry === "string") return [{ key: entry }];
    if (typeof entry !== "object" || entry === null) return [];
    const { index, key, reason, message, code } = entry as Record<string, unknown>;
    const named: { index?: number; key?: string; reason?: string; code?: string } = {};
    if (typeof code === "string") named.code = code;
    if (typeof index === "number" && Number.isSafeInteger(index)) named.index = index;
    if (typeof key === "string") named.key = key;
    if (typeof reason === "string") named.reason = reason;
    else if (typeof message === "string") named.reason = message;
    return named.index !== undefined || named.key !== undefined ? [named] : [];
  });
}

function errorMessage(status: number, json: unknown, text: string): string {
  const body = (typeof json === "object" && json !== null ? json : {}) as Record<string, unknown>;
  const error = body.error;
  if (typeof error === "object" && error !== null) {
    const { message, code } = error as Record<string, unknown>;
    if (typeof message === "string")
      return typeof code === "string" ? `${message} (${code})` : message;
  }
  if (typeof error === "string") return error;
  if (typeof body.message === "string") return body.message;
  return `HTTP ${status}${text ? `: ${text.slice(0, 200)}` : ""}`;
}

/**
 * The error for an answer that is not a success: the server's own code when it sent one of ours,
 * else the share code its status stands for.
 */
function answerError(
  context: string,
  status: number,
  json: unknown,
  text: string,
  retryable?: boolean,
): SynclineError {
  const message = `${context}: the server answered ${status}: ${errorMessage(status, json, text)}`;
  const given = (json as { error?: { code?: unknown } } | undefined)?.error?.code;
  // The queue retries what it classified as "retry", whatever the code's table entry says.
  const options = retryable === undefined ? { status } : { status, retryable };
  if (isErrorCode(given)) return createError(given, message, options);
  const code =
    status === 409
      ? "ERR_SHARE_EXISTS"
      : status === 401 || status === 403
        ? "ERR_SHARE_SECRET"
        : status === 404 || status === 410
          ? "ERR_SHARE_NOT_FOUND"
          : status === 413
            ? "ERR_SHARE_TOO_LARGE"
            : status === 400 || status === 422
              ? "ERR_SHARE_REQUEST"
              : status === 503
                ? "ERR_SHARE_STORAGE"
                : "ERR_UNEXPECTED";
  return createError(code, message, options);
}
