// The server's Prometheus registry: process metrics plus syncline's own counters. One registry
// per server instance, so several servers in one process (tests) never share counters.

import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/** The metrics every part of the server reports into. Features add their own to `registry`. */
export interface ServerMetrics {
  readonly registry: Registry;
  /** HTTP requests answered, by route kind and status. */
  readonly httpRequests: Counter<"route" | "status">;
  /** Time to answer HTTP requests, by route kind. */
  readonly httpDuration: Histogram<"route">;
  /** Open WebSocket connections, by endpoint. */
  readonly wsConnections: Gauge<"endpoint">;
  /** WebSocket upgrades refused before the handshake, by endpoint and HTTP status. */
  readonly upgradesRefused: Counter<"endpoint" | "status">;
}

/** Creates a fresh registry with default process metrics and the server's base metrics. */
export function createServerMetrics(): ServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "syncline_" });
  return {
    registry,
    httpRequests: new Counter({
      name: "syncline_http_requests_total",
      help: "HTTP requests answered, by route and status.",
      labelNames: ["route", "status"],
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: "syncline_http_request_duration_seconds",
      help: "Time to answer an HTTP request, by route.",
      labelNames: ["route"],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers: [registry],
    }),
    wsConnections: new Gauge({
      name: "syncline_websocket_connections",
      help: "Open WebSocket connections, by endpoint.",
      labelNames: ["endpoint"],
      registers: [registry],
    }),
    upgradesRefused: new Counter({
      name: "syncline_websocket_upgrades_refused_total",
      help: "WebSocket upgrades refused before the handshake, by endpoint and HTTP status.",
      labelNames: ["endpoint", "status"],
      registers: [registry],
    }),
  };
}
