// The live-share HTTP API on the router: the current API under /api/share and the older OpenCode
// endpoints (/share_create, /share_sync, /share_delete, /share_data). Every answer carries
// `Cache-Control: no-store`; errors are thrown and answered by the HTTP adapter like every
// route's (`{error: {code, message[, items]}}` with the error's status). Other origins may call
// every one of them (cors.ts), as they may OpenCode's share API. Bodies are read as JSON whatever
// their Content-Type says: OpenCode's older client sends none (so fetch labels it text/plain).

import { z } from "zod";
import { createError, describeError, isSynclineError } from "../protocol/errors.js";
import { shareIdOfSession } from "../protocol/share-items.js";
import { badRequest } from "../share/share-errors.js";
import type { ShareHub } from "../share/share-hub.js";
import { capIgnored, checkItemCount, maxSyncItems } from "../share/sync-items.js";
import { jsonNestsDeeperThan } from "../util/json-depth.js";
import { bearerTokenMatches } from "./bearer-token.js";
import { noStore } from "./http-errors.js";
import {
  clientAddressOf,
  type HttpRequest,
  type HttpResponse,
  type HttpRouter,
} from "./http-router.js";
import type { RateLimits } from "./rate-limits.js";

/** What the routes need besides the hub. */
export interface ShareRouteOptions {
  readonly hub: ShareHub;
  readonly maxBodyBytes: number;
  /** Most items per sync request; more → 413. Default `maxSyncItems` (10,000). */
  readonly maxSyncItems?: number;
  /** Base of share links; default: the request's scheme and Host header. */
  readonly publicUrl: string | undefined;
  /** True when the listener serves HTTPS (for links built from the Host header). */
  readonly tls: boolean;
  /** Deepest nesting of arrays and objects in a body; deeper → 400 before it is parsed. */
  readonly maxJsonDepth: number;
  /** When set, creating a share needs `Authorization: Bearer <token>`. */
  readonly createToken: string | undefined;
  /** Share creations and failed secrets or tokens, per client address. */
  readonly rateLimits: RateLimits;
}

const createBody = z.object({ sessionID: z.string(), secret: z.unknown().optional() });
const crossOrigin = { crossOrigin: true } as const;
const syncBody = z.object({ secret: z.unknown().optional(), data: z.array(z.unknown()) });
const deleteBody = z.object({ secret: z.unknown().optional() });
const legacySyncBody = z.object({
  sessionID: z.string(),
  secret: z.unknown().optional(),
  key: z.unknown().optional(),
  content: z.unknown().optional(),
});
const legacyDeleteBody = z.object({ sessionID: z.string(), secret: z.unknown().optional() });

/** Adds the share API routes to `router`. */
export function addShareRoutes(router: HttpRouter, options: ShareRouteOptions): HttpRouter {
  addCurrentApi(router, options);
  addOlderApi(router, options);
  // The viewer socket's path, asked without an upgrade: say so, as OpenCode's server does.
  router.get("/share_poll", () => {
    throw createError(
      "ERR_UPGRADE_REQUIRED",
      "share viewer: /share_poll is a WebSocket; send Upgrade: websocket",
    );
  });
  return router;
}

/** `/api/share…`: the share id in the path, items as a `data` list. */
function addCurrentApi(router: HttpRouter, options: ShareRouteOptions): void {
  const { hub } = options;
  router.add("POST", "/api/share", (request) => create(request, options), crossOrigin);
  router.add(
    "POST",
    "/api/share/:id/sync",
    async (request) => {
      const { secret, data } = await parseBody(request, syncBody, "share sync", options);
      checkItemCount(data.length, options.maxSyncItems ?? maxSyncItems);
      const id = request.params.id as string;
      const result = await withSecret(request, options, "share sync", () =>
        hub.sync(id, secret, data),
      );
      return json(200, capIgnored(result));
    },
    crossOrigin,
  );
  router.add(
    "GET",
    "/api/share/:id/data",
    (request) => stateOf(hub, request.params.id as string, "data"),
    crossOrigin,
  );
  router.add(
    "DELETE",
    "/api/share/:id",
    async (request) => {
      const id = request.params.id as string;
      const { secret } = await parseBody(request, deleteBody, "share delete", options);
      await withSecret(request, options, "share delete", () => hub.remove(id, secret));
      return json(200, { id, deleted: true });
    },
    crossOrigin,
  );
}

/** The older OpenCode endpoints: the share named by `sessionID`, one `{key, content}` per sync. */
function addOlderApi(router: HttpRouter, options: ShareRouteOptions): void {
  const { hub } = options;
  router.add("POST", "/share_create", (request) => create(request, options), crossOrigin);
  router.add("POST", "/share_sync", (request) => legacySync(request, options), crossOrigin);
  router.add(
    "GET",
    "/share_data",
    async (request) => {
      const sessionID = request.query.get("sessionID");
      const id =
        request.query.get("id") ?? (sessionID === null ? undefined : idOfSession(sessionID));
      if (id === undefined) {
        throw badRequest("share data: ?id=<share id> or ?sessionID= is required");
      }
      return stateOf(hub, id, "session");
    },
    crossOrigin,
  );
  router.add(
    "POST",
    "/share_delete",
    async (request) => {
      const body = await parseBody(request, legacyDeleteBody, "share delete", options);
      const id = idOfSession(body.sessionID);
      await withSecret(request, options, "share delete", () => hub.remove(id, body.secret));
      return json(200, { id, deleted: true });
    },
    crossOrigin,
  );
}

/** `POST /share_sync {sessionID, secret, key, content}`: one key; over the item limit → 413. */
async function legacySync(request: HttpRequest, options: ShareRouteOptions) {
  const body = await parseBody(request, legacySyncBody, "share sync", options);
  const { sessionID, secret, key, content } = body;
  const id = idOfSession(sessionID);
  const result = await withSecret(request, options, "share sync", () =>
    options.hub.syncKey(id, secret, key, content),
  );
  return json(200, capIgnored(result));
}

/**
 * A share's state as a data route answers it, with its seq: encoded once per seq and streamed to
 * each reader as it reads (share-snapshot.ts), the share held in memory until it is done.
 */
async function stateOf(hub: ShareHub, id: string, form: "data" | "session"): Promise<HttpResponse> {
  const body = await hub.readBody(id, form);
  return {
    status: 200,
    headers: {
      "content-type": "application/json; charset=utf-8",
      ...noStore,
      "x-share-seq": String(body.seq),
    },
    body,
  };
}

/**
 * Both APIs create a share the same way: the create token first (when one is set), then the
 * address's creation budget, then the body. A new share is answered 201 `{id, url, secret}`; an
 * existing one 200 `{id, url}`, with `secret` only when the request sent the share's secret (its
 * hash is all the server keeps, and a create never replaces it). The link is `/share/<id>`, the
 * form OpenCode's servers hand out and `opencode import` reads.
 */
async function create(request: HttpRequest, options: ShareRouteOptions): Promise<HttpResponse> {
  const address = clientAddressOf(request);
  if (options.createToken !== undefined) {
    options.rateLimits.checkAuthAllowed(address, "share create");
    if (!bearerTokenMatches(request.headers.authorization, options.createToken)) {
      options.rateLimits.authFailed(address);
      throw createError(
        "ERR_UNAUTHORIZED",
        `share create: this server needs its share-create token as "Authorization: Bearer <token>"; ${request.headers.authorization === undefined ? "none was sent" : "the one sent is not valid"}`,
      );
    }
  }
  options.rateLimits.takeShareCreate(address, "share create");
  const body = await parseBody(request, createBody, "share create", options);
  // A secret sent with a create is a guess like any other: not even checked past the limit.
  if (body.secret !== undefined) options.rateLimits.checkAuthAllowed(address, "share create");
  const share = await options.hub.create(body.sessionID, body.secret);
  // A wrong secret sent for an existing share counts as a failed authentication.
  if (share.secretRefused) options.rateLimits.authFailed(address);
  const url = `${baseUrl(request, options)}/share/${share.id}`;
  return json(share.created ? 201 : 200, {
    id: share.id,
    url,
    ...(share.secret === undefined ? {} : { secret: share.secret }),
  });
}

/**
 * Runs a request that checks a share's secret: refused at once (429) when the client's address
 * has used up its failed authentications, and a refused secret counts as one.
 */
async function withSecret<T>(
  request: HttpRequest,
  options: ShareRouteOptions,
  context: string,
  run: () => Promise<T>,
): Promise<T> {
  const address = clientAddressOf(request);
  options.rateLimits.checkAuthAllowed(address, context);
  try {
    return await run();
  } catch (error) {
    if (isSynclineError(error, "ERR_SHARE_SECRET")) options.rateLimits.authFailed(address);
    throw error;
  }
}

async function parseBody<T>(
  request: HttpRequest,
  schema: z.ZodType<T>,
  context: string,
  options: Pick<ShareRouteOptions, "maxBodyBytes" | "maxJsonDepth">,
): Promise<T> {
  const { maxBodyBytes, maxJsonDepth } = options;
  const bytes = request.readBody ? await request.readBody(maxBodyBytes, context) : Buffer.alloc(0);
  const text = bytes.toString("utf8");
  // Checked before parsing: a body nested thousands deep parses, then overflows the stack of
  // whatever walks it (the items' re-encoding), which was a 500.
  if (jsonNestsDeeperThan(text, maxJsonDepth)) {
    throw badRequest(
      `${context}: body nests arrays or objects deeper than ${maxJsonDepth} levels (share_max_json_depth)`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const preview = JSON.stringify(bytes.subarray(0, 40).toString("utf8"));
    throw badRequest(
      `${context}: body is not JSON (${describeError(error)}), starts with ${preview}`,
    );
  }
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const path = issue?.path ?? [];
  let got: unknown = value;
  for (const segment of path) got = (got as Record<PropertyKey, unknown> | undefined)?.[segment];
  const field = path.length > 0 ? path.join(".") : "body";
  const shown = JSON.stringify(got)?.slice(0, 80) ?? "undefined";
  throw badRequest(`${context}: ${field} ${describeIssue(issue)}, got ${shown}`);
}

function describeIssue(issue: z.core.$ZodIssue | undefined): string {
  if (issue?.code === "invalid_type") return `must be ${article(issue.expected)}`;
  return issue?.message ?? "is invalid";
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

/** The share id of an older API call's `sessionID` (its last 8 characters). */
function idOfSession(sessionID: string): string {
  const id = shareIdOfSession(sessionID);
  if (!id) {
    throw badRequest(`share: sessionID ${JSON.stringify(sessionID)} is not a valid session id`);
  }
  return id;
}

function baseUrl(request: HttpRequest, options: ShareRouteOptions): string {
  if (options.publicUrl !== undefined) return options.publicUrl;
  const host = request.headers.host ?? "localhost";
  return `${options.tls ? "https" : "http"}://${host}`;
}

function json(status: number, value: unknown): HttpResponse {
  return raw(status, JSON.stringify(value));
}

function raw(status: number, body: string, headers: Record<string, string> = {}): HttpResponse {
  return {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...noStore, ...headers },
    body,
  };
}
