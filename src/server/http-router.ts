// A tiny HTTP router: routes are plain async functions from a request description to a
// response description, so they are testable in-process without opening a port.

import type { IncomingHttpHeaders } from "node:http";
import { createError } from "../protocol/errors.js";
import type { StreamedBody } from "../util/streamed-body.js";
import { crossOriginHeaders, preflightHeaders } from "./cors.js";
import { errorResponse } from "./http-errors.js";

/** What a route handler sees of a request. */
export interface HttpRequest {
  readonly method: string;
  /** The path without the query string, e.g. `/api/share/abc/sync`. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  /**
   * The client's address, behind trusted proxies (trusted-proxies.ts); absent for requests built
   * in-process.
   */
  readonly clientAddress?: string;
  /** Values of `:name` segments of the matched route. */
  readonly params: Readonly<Record<string, string>>;
  /**
   * Reads the request body, rejecting with an HTTP-413 error past `maxBytes` (`context` starts
   * its message). Absent for requests built in-process without one.
   */
  readonly readBody?: (maxBytes: number, context: string) => Promise<Buffer>;
}

/**
 * What a route handler answers. A string body is sent as UTF-8; a streamed one a batch at a time
 * as the client reads it (its `finished`, if any, is called once it ended, whole or not).
 */
export interface HttpResponse {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Uint8Array | (StreamedBody & { finished?(): void });
}

/** A route handler. A thrown SynclineError is answered with its status; anything else is 500. */
export type RouteHandler = (request: HttpRequest) => HttpResponse | Promise<HttpResponse>;

interface Route {
  readonly method: string;
  readonly pattern: string;
  readonly segments: readonly string[];
  readonly handler: RouteHandler;
  /** True when other origins may call it (cors.ts): its answers carry the CORS headers. */
  readonly crossOrigin: boolean;
}

/** How a route is added. */
export interface RouteOptions {
  /** Other origins may call it: CORS headers on every answer, `OPTIONS` preflight 204. */
  readonly crossOrigin?: boolean;
}

/**
 * What `handle` did: the route's answer, or what it threw (the host answers it, see
 * http-errors.ts). `route` is the matched pattern, or "unmatched".
 */
export type Routed = {
  readonly route: string;
  /** Headers the answer carries whatever it is, a thrown error's included (CORS). */
  readonly headers?: Readonly<Record<string, string>>;
} & ({ readonly response: HttpResponse } | { readonly error: unknown });

/** A request before routing: the host fills this from node's IncomingMessage. */
export type UnroutedRequest = Omit<HttpRequest, "params">;

/** Matches requests to routes by method and path; `:name` segments capture parameters. */
export class HttpRouter {
  readonly #routes: Route[] = [];

  /** Adds a route; `pattern` is a path such as `/healthz` or `/api/share/:id/sync`. */
  add(method: string, pattern: string, handler: RouteHandler, options: RouteOptions = {}): this {
    this.#routes.push({
      method: method.toUpperCase(),
      pattern,
      segments: splitPath(pattern),
      handler,
      crossOrigin: options.crossOrigin === true,
    });
    return this;
  }

  /** Shorthand for `add("GET", …)`; GET routes also answer HEAD. */
  get(pattern: string, handler: RouteHandler): this {
    return this.add("GET", pattern, handler);
  }

  /**
   * Answers a request: the matching route, else 405 (path known) or 404. `route` is the matched
   * pattern (or "unmatched"), a low-cardinality label for metrics and logs.
   */
  async handle(request: UnroutedRequest): Promise<Routed> {
    const segments = splitPath(request.path);
    const allowed = new Set<string>();
    let crossOrigin = false;
    for (const route of this.#routes) {
      const params = matchSegments(route.segments, segments);
      if (params === undefined) continue;
      const method = request.method === "HEAD" ? "GET" : request.method;
      if (route.method === method) {
        const headers = route.crossOrigin ? crossOriginHeaders : undefined;
        try {
          const response = await route.handler({ ...request, params });
          return { route: route.pattern, headers, response: withHeaders(response, headers) };
        } catch (error) {
          return { route: route.pattern, headers, error };
        }
      }
      allowed.add(route.method);
      crossOrigin ||= route.crossOrigin;
    }
    if (allowed.has("GET")) allowed.add("HEAD");
    // A preflight only where another origin may call: elsewhere OPTIONS stays a 405 (or 404).
    if (crossOrigin && request.method === "OPTIONS") {
      const response = { status: 204, headers: preflightHeaders([...allowed]) };
      return { route: "preflight", response };
    }
    if (allowed.size > 0) {
      const message = `method ${request.method} is not allowed on ${request.path}`;
      const response = errorResponse(createError("ERR_METHOD_NOT_ALLOWED", message), {
        allow: [...allowed].join(", "),
      });
      return { route: "unmatched", response };
    }
    const message = `no route for ${request.path}`;
    return { route: "unmatched", response: errorResponse(createError("ERR_NOT_FOUND", message)) };
  }
}

function withHeaders(
  response: HttpResponse,
  headers: Readonly<Record<string, string>> | undefined,
): HttpResponse {
  return headers === undefined
    ? response
    : { ...response, headers: { ...response.headers, ...headers } };
}

/** The client address limits count a request under (`in-process` for one built without). */
export function clientAddressOf(request: HttpRequest): string {
  return request.clientAddress ?? "in-process";
}

/** A JSON response with `content-type` set. */
export function jsonResponse(
  status: number,
  value: unknown,
  headers: Readonly<Record<string, string>> = {},
): HttpResponse {
  return {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
    body: JSON.stringify(value),
  };
}

/** A plain-text response. */
export function textResponse(status: number, text: string): HttpResponse {
  return { status, headers: { "content-type": "text/plain; charset=utf-8" }, body: text };
}

function splitPath(path: string): string[] {
  return path.split("/").filter((segment) => segment.length > 0);
}

function matchSegments(
  pattern: readonly string[],
  actual: readonly string[],
): Record<string, string> | undefined {
  if (pattern.length !== actual.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const expected = pattern[i] as string;
    const segment = actual[i] as string;
    if (expected.startsWith(":")) {
      try {
        params[expected.slice(1)] = decodeURIComponent(segment);
      } catch {
        return undefined;
      }
    } else if (expected !== segment) {
      return undefined;
    }
  }
  return params;
}
