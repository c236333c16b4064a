// The routes every syncline server answers: `/` (like the reference sync server), `/healthz`
// for load balancers and `/metrics` for Prometheus (here, or on a listener of its own).

import type { Bus, BusStatus } from "../bus/bus.js";
import { createError } from "../protocol/errors.js";
import type { Store, StoreStatus } from "../storage/store.js";
import { bearerTokenMatches } from "./bearer-token.js";
import { type HttpRouter, jsonResponse, textResponse } from "./http-router.js";
import type { ServerMetrics } from "./metrics.js";

/** What the base routes read. */
export interface BaseRouteDeps {
  readonly version: string;
  readonly startedAt: number;
  readonly store: Store;
  /** The bus to the other nodes, when there are some (`--redis`). */
  readonly bus?: Bus | undefined;
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
    const bus = deps.bus?.status();
    const status = healthOf(store, bus, deps.isAccepting());
    return jsonResponse(
      status === "unavailable" ? 503 : 200,
      {
        status,
        version: deps.version,
        uptime: Math.round((Date.now() - deps.startedAt) / 100) / 10,
        store: storeReport(store),
        ...(bus === undefined ? {} : { bus: busReport(bus) }),
      },
      { "cache-control": "no-store" },
    );
  });
  if (deps.serveMetrics) addMetricsRoute(router, deps.metrics, deps.metricsToken);
  return router;
}

/**
 * `unavailable` (503: a load balancer drains the node) while shutting down or while the store is
 * not open; `degraded` while the store is open but its writes (or, with Postgres unreachable, its
 * reads) fail: still 200, because reads
 * (share data, viewers, Automerge documents) are served and taking the node out would lose them
 * too; monitoring alerts on the status (or `syncline_store_degraded`). Also `degraded` while the
 * bus to the other nodes is down: this node serves its own clients, but changes made through
 * other nodes reach them only once it is back (`syncline_bus_degraded`). `ok` otherwise.
 */
function healthOf(
  store: StoreStatus,
  bus: BusStatus | undefined,
  accepting: boolean,
): "ok" | "degraded" | "unavailable" {
  if (!accepting || store.state !== "open") return "unavailable";
  if (store.writable === false || store.readable === false) return "degraded";
  return bus?.state === "degraded" ? "degraded" : "ok";
}

/** The bus's status as `/healthz` shows it: named fields only (never the Redis URL). */
function busReport(bus: BusStatus): BusStatus {
  const { driver, state, lastError, since } = bus;
  return { driver, state, lastError, since };
}

/** The store's status as `/healthz` shows it: named fields only, so no driver adds a path. */
function storeReport(store: StoreStatus): StoreStatus {
  const { driver, state, writable, readable, lastError, failingSince } = store;
  return { driver, state, writable, readable, lastError, failingSince };
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
