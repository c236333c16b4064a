// Bridges node's http request/response objects to the in-process HttpRouter: every error a route
// throws is answered here (http-errors.ts), with one log line per server-side failure, and every
// answered request is counted in the metrics.

import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import { createError, isSynclineError } from "../protocol/errors.js";
import { type BodySink, writeStreamed } from "../util/streamed-body.js";
import type { BodyBudget } from "./body-budget.js";
import { asHttpError, errorResponse, httpStatusOf } from "./http-errors.js";
import type { HttpResponse, HttpRouter } from "./http-router.js";
import type { ServerMetrics } from "./metrics.js";
import type { OutputBudget } from "./output-budget.js";
import { trackResponse } from "./output-streams.js";
import { readBody } from "./read-body.js";
import type { ClientAddresses } from "./trusted-proxies.js";

/** Creates the `request` listener for node's HTTP servers. */
export function createRequestListener(
  router: HttpRouter,
  metrics: ServerMetrics,
  logger: Logger,
  output: OutputBudget,
  addresses: ClientAddresses,
  bodies?: BodyBudget,
): (request: IncomingMessage, response: ServerResponse) => void {
  return (request, response) => {
    trackResponse(output, response);
    const started = performance.now();
    const body = bodies && { budget: bodies, account: bodies.account() };
    // A body's bytes count until its route is done with them (parsed and applied), whether or
    // not the client is still there: a closed socket does not free what the route holds.
    void answer(router, request, logger, addresses, body)
      .finally(() => body?.account.release())
      .then(({ route, result }) => {
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
  addresses: ClientAddresses,
  body: Parameters<typeof readBody>[3],
): Promise<{ route: string; result: HttpResponse }> {
  let url: URL;
  try {
    url = new URL(request.url ?? "/", "http://localhost");
  } catch {
    const message = `malformed request target ${JSON.stringify(request.url)}`;
    return { route: "unmatched", result: errorResponse(createError("ERR_USAGE", message)) };
  }
  const handled = await router.handle({
    method: request.method ?? "GET",
    path: url.pathname,
    query: url.searchParams,
    headers: request.headers,
    clientAddress: addresses.of(request),
    readBody: (maxBytes, context) => readBody(request, maxBytes, context, body),
  });
  if ("response" in handled) return { route: handled.route, result: handled.response };
  const thrown = handled.error;
  const error = asHttpError(thrown, `${request.method} ${url.pathname}`);
  // A client's mistake (4xx) is its answer; a server-side failure is also worth a log line.
  // A full body budget is load, not a fault: counted (the 503s), not logged per request.
  if (httpStatusOf(error) >= 500 && error.code !== "ERR_SERVER_BUSY") {
    const level = isSynclineError(thrown) ? "warn" : "error";
    const client = addresses.of(request);
    logger[level](
      { err: thrown, method: request.method, path: url.pathname, client },
      "http route failed",
    );
  }
  return { route: handled.route, result: errorResponse(error, handled.headers) };
}

function writeResponse(request: IncomingMessage, response: ServerResponse, result: HttpResponse) {
  const body = result.body ?? "";
  const streamed = typeof body === "object" && "units" in body ? body : undefined;
  if (response.headersSent || response.destroyed) return streamed?.finished?.();
  const length = typeof body === "string" ? Buffer.byteLength(body) : body.byteLength;
  response.writeHead(result.status, { ...result.headers, "content-length": String(length) });
  if (streamed === undefined || request.method === "HEAD") {
    response.end(request.method === "HEAD" || streamed ? undefined : body);
    return streamed?.finished?.();
  }
  // A batch at a time as the client reads it: a client that stops reading holds no copy.
  void writeStreamed(responseSink(response), streamed.units())
    .then(
      (complete) => (complete ? response.end() : undefined),
      () => response.destroy(),
    )
    .finally(() => streamed.finished?.());
}

/** A response as a sink for a streamed body: corked writes, drained like its socket. */
function responseSink(response: ServerResponse): BodySink {
  const open = () => !response.destroyed && !response.writableEnded;
  return {
    write(parts) {
      if (!open()) return false;
      response.cork();
      for (const part of parts) response.write(part);
      response.uncork();
      return true;
    },
    needsDrain: () => response.writableNeedDrain,
    drained: () =>
      new Promise<boolean>((resolve) => {
        if (!open()) return resolve(false);
        if (!response.writableNeedDrain) return resolve(true);
        const done = (drained: boolean) => () => {
          response.off("drain", onDrain);
          response.off("close", onClose);
          resolve(drained && open());
        };
        const onDrain = done(true);
        const onClose = done(false);
        response.once("drain", onDrain);
        response.once("close", onClose);
      }),
  };
}
