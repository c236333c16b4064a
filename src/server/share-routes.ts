// The live-share HTTP API on the router: the current API under /api/share and the older OpenCode
// endpoints (/share_create, /share_sync, /share_delete, /share_data). Every answer carries
// `Cache-Control: no-store`; errors are thrown and answered by the HTTP adapter like every
// route's (`{error: {code, message[, items]}}` with the error's status).

import { z } from "zod";
import { describeError } from "../protocol/errors.js";
import { shareIdOfSession } from "../protocol/share-items.js";
import { badRequest } from "../share/share-errors.js";
import type { ShareHub } from "../share/share-hub.js";
import { capIgnored, checkItemCount, maxSyncItems } from "../share/sync-items.js";
import { noStore } from "./http-errors.js";
import type { HttpRequest, HttpResponse, HttpRouter } from "./http-router.js";

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
}

const createBody = z.object({ sessionID: z.string() });
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
  return router;
}

/** `/api/share…`: the share id in the path, items as a `data` list. */
function addCurrentApi(router: HttpRouter, options: ShareRouteOptions): void {
  const { hub, maxBodyBytes } = options;
  router.add("POST", "/api/share", (request) => create(request, options));
  router.add("POST", "/api/share/:id/sync", async (request) => {
    const { secret, data } = await parseBody(request, syncBody, "share sync", maxBodyBytes);
    checkItemCount(data.length, options.maxSyncItems ?? maxSyncItems);
    return json(200, capIgnored(await hub.sync(request.params.id as string, secret, data)));
  });
  router.add("GET", "/api/share/:id/data", (request) =>
    stateOf(hub, request.params.id as string, "data"),
  );
  router.add("DELETE", "/api/share/:id", async (request) => {
    const id = request.params.id as string;
    const { secret } = await parseBody(request, deleteBody, "share delete", maxBodyBytes);
    await hub.remove(id, secret);
    return json(200, { id, deleted: true });
  });
}

/** The older OpenCode endpoints: the share named by `sessionID`, one `{key, content}` per sync. */
function addOlderApi(router: HttpRouter, options: ShareRouteOptions): void {
  const { hub, maxBodyBytes } = options;
  router.add("POST", "/share_create", (request) => create(request, options));
  router.add("POST", "/share_sync", async (request) => {
    const body = await parseBody(request, legacySyncBody, "share sync", maxBodyBytes);
    const { sessionID, secret, key, content } = body;
    return json(200, capIgnored(await hub.syncKey(idOfSession(sessionID), secret, key, content)));
  });
  router.add("GET", "/share_data", async (request) => {
    const sessionID = request.query.get("sessionID");
    const id = request.query.get("id") ?? (sessionID === null ? undefined : idOfSession(sessionID));
    if (id === undefined) throw badRequest("share data: ?id=<share id> or ?sessionID= is required");
    return stateOf(hub, id, "fields");
  });
  router.add("POST", "/share_delete", async (request) => {
    const body = await parseBody(request, legacyDeleteBody, "share delete", maxBodyBytes);
    const id = idOfSession(body.sessionID);
    await hub.remove(id, body.secret);
    return json(200, { id, deleted: true });
  });
}

/**
 * A share's state as a data route answers it, with its seq: encoded once per seq and streamed to
 * each reader as it reads (share-snapshot.ts), the share held in memory until it is done.
 */
async function stateOf(hub: ShareHub, id: string, form: "data" | "fields"): Promise<HttpResponse> {
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

/** Both APIs create a share the same way. */
async function create(request: HttpRequest, options: ShareRouteOptions): Promise<HttpResponse> {
  const { sessionID } = await parseBody(request, createBody, "share create", options.maxBodyBytes);
  const { id, secret } = await options.hub.create(sessionID);
  return json(201, { id, secret, url: `${baseUrl(request, options)}/s/${id}` });
}

async function parseBody<T>(
  request: HttpRequest,
  schema: z.ZodType<T>,
  context: string,
  maxBytes: number,
): Promise<T> {
  const bytes = request.readBody ? await request.readBody(maxBytes, context) : Buffer.alloc(0);
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString("utf8"));
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
