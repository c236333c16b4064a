// The routes every syncline server answers: `/` (like the reference sync server), `/healthz`
// for load balancers and `/metrics` for Prometheus (here, or on a listener of its own).

import { createError } from "../protocol/errors.js";
import type { Store } from "../storage/store.js";
import { bearerTokenMatches } from "./bearer-token.js";
import { type HttpRouter, jsonResponse, textResponse } from "./http-router.js";
import type { ServerMetrics } from "./metrics.js";

/** What the base routes read. */
export interface BaseRouteDeps {
  readonly version: string;
  readonly startedAt: number;
  readonly store: Store;
  readonly metrics: ServerMetrics;
  /** False once shutdown has begun: health turns 503 so balancers drain this node. */
  readonly isAccepting: () => boolean;
  /** False when /metrics has a listener of its own (`--metrics-listen`). */
  readonly serveMetrics: boolean;
  /** When set, /metrics needs `Authorization: Bearer <token>`. */
  readonly metricsToken: string | undefined;
}

/** Adds `GET /`, `GET /healthz` and `GET /metrics` to `router`. */
export function addBaseRoutes(router: HttpRouter, deps: BaseRouteDeps): HttpRouter {
  router.get("/", () => textResponse(200, `syncline ${deps.version} is running\n`));
  router.get("/healthz", () => {
    const store = deps.store.status();
    const healthy = store.state === "open" && deps.isAccepting();
    return jsonResponse(
      healthy ? 200 : 503,
      {
        status: healthy ? "ok" : "unavailable",
        version: deps.version,
        uptime: Math.round((Date.now() - deps.startedAt) / 100) / 10,
        store,
      },
      { "cache-control": "no-store" },
    );
  });
  if (deps.serveMetrics) addMetricsRoute(router, deps.metrics, deps.metricsToken);
  return router;
}

/** Adds `GET /metrics`, behind `Authorization: Bearer <token>` when a token is given. */
export function addMetricsRoute(
  router: HttpRouter,
  metrics: ServerMetrics,
  token: string | undefined,
): HttpRouter {
  return router.get("/metrics", async (request) => {
    if (token !== undefined && !bearerTokenMatches(request.headers.authorization, token)) {
      throw createError(
        "ERR_UNAUTHORIZED",
        'metrics: this server needs its metrics token as "Authorization: Bearer <token>"',
      );
    }
    return {
      status: 200,
      headers: { "content-type": metrics.registry.contentType, "cache-control": "no-store" },
      body: await metrics.registry.metrics(),
    };
  });
}
