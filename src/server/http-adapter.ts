// Bridges node's http request/response objects to the in-process HttpRouter, with one log line
// per failure and metrics per answered request.

import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import { describeError } from "../protocol/errors.js";
import { type HttpResponse, type HttpRouter, jsonResponse, noStore } from "./http-router.js";
import type { ServerMetrics } from "./metrics.js";
import { readBody } from "./read-body.js";

/** Creates the `request` listener for node's HTTP servers. */
export function createRequestListener(
  router: HttpRouter,
  metrics: ServerMetrics,
  logger: Logger,
): (request: IncomingMessage, response: ServerResponse) => void {
  return (request, response) => {
    const started = performance.now();
    void answer(router, request, logger).then(({ route, result }) => {
      writeResponse(request, response, result);
      metrics.httpRequests.inc({ route, status: String(result.status) });
      metrics.httpDuration.observe({ route }, (performance.now() - started) / 1000);
    });
  };
}

async function answer(
  router: HttpRouter,
  request: IncomingMessage,
  logger: Logger,
): Promise<{ route: string; result: HttpResponse }> {
  let url: URL;
  try {
    url = new URL(request.url ?? "/", "http://localhost");
  } catch {
    const message = `malformed request target ${JSON.stringify(request.url)}`;
    return {
      route: "unmatched",
      result: jsonResponse(400, { error: { code: "ERR_USAGE", message } }, noStore),
    };
  }
  try {
    const { route, response } = await router.handle({
      method: request.method ?? "GET",
      path: url.pathname,
      query: url.searchParams,
      headers: request.headers,
      readBody: (maxBytes, context) => readBody(request, maxBytes, context),
    });
    return { route, result: response };
  } catch (error) {
    logger.error({ err: error, method: request.method, path: url.pathname }, "http route failed");
    const message = `${request.method} ${url.pathname} failed: ${describeError(error)}`;
    return {
      route: "error",
      result: jsonResponse(500, { error: { code: "ERR_UNEXPECTED", message } }, noStore),
    };
  }
}

function writeResponse(request: IncomingMessage, response: ServerResponse, result: HttpResponse) {
  if (response.headersSent || response.destroyed) return;
  const body = result.body ?? "";
  const length = typeof body === "string" ? Buffer.byteLength(body) : body.byteLength;
  response.writeHead(result.status, { ...result.headers, "content-length": String(length) });
  response.end(request.method === "HEAD" ? undefined : body);
}
