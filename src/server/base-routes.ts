// The routes every syncline server answers: `/` (like the reference sync server), `/healthz`
// for load balancers and `/metrics` for Prometheus.

import type { Store } from "../storage/store.js";
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
  router.get("/metrics", async () => ({
    status: 200,
    headers: { "content-type": deps.metrics.registry.contentType, "cache-control": "no-store" },
    body: await deps.metrics.registry.metrics(),
  }));
  return router;
}
