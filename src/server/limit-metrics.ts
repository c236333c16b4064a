// What the limits report: open connections, every refusal by the limit that made it, rate-limited
// requests, HTTP timeouts, unauthenticated WebSockets, admin deletes.

import { Counter, Gauge, type Registry } from "prom-client";

/** The limits' metrics (syncline_connections…, syncline_limit_refusals_total…). */
export interface LimitMetrics {
  /** Open TCP and Unix connections, upgraded ones included. */
  readonly connections: Gauge;
  /**
   * Connections or requests refused by a cap, by limit: `max_connections`,
   * `max_connections_per_address`, `max_unauthenticated_websockets_per_address`,
   * `proxy_protocol` (no valid header, or not from a trusted proxy), `share_total_max_bytes`.
   */
  readonly refusals: Counter<"limit">;
  /** Requests or sockets refused by a rate limit: `share_create`, `auth_failure`, `document_create`. */
  readonly rateLimited: Counter<"limit">;
  /** HTTP connections closed by a timeout: `request` (headers or body too slow), `idle`. */
  readonly httpTimeouts: Counter<"kind">;
  /** WebSockets that carry no credential now (share viewers, open automerge, /wire before WELCOME). */
  readonly unauthenticatedWebSockets: Gauge;
  /** Shares and documents deleted through the admin API, by kind (`share`, `document`). */
  readonly adminDeletes: Counter<"kind">;
}

/** Registers the limits' metrics in `registry`. */
export function createLimitMetrics(registry: Registry): LimitMetrics {
  const registers = [registry];
  return {
    connections: new Gauge({
      name: "syncline_connections",
      help: "Open TCP and Unix connections (upgraded WebSockets included).",
      registers,
    }),
    refusals: new Counter({
      name: "syncline_limit_refusals_total",
      help: "Connections or upgrades refused by a cap, by limit (max_connections, max_connections_per_address, max_unauthenticated_websockets_per_address, proxy_protocol).",
      labelNames: ["limit"],
      registers,
    }),
    rateLimited: new Counter({
      name: "syncline_rate_limited_total",
      help: "Requests or sockets refused by a per-address rate limit, by limit (share_create, auth_failure, document_create).",
      labelNames: ["limit"],
      registers,
    }),
    httpTimeouts: new Counter({
      name: "syncline_http_timeouts_total",
      help: "HTTP connections closed by a timeout, by kind (request, idle).",
      labelNames: ["kind"],
      registers,
    }),
    unauthenticatedWebSockets: new Gauge({
      name: "syncline_websocket_unauthenticated",
      help: "WebSockets without a credential: share viewers, open automerge, /wire before WELCOME.",
      registers,
    }),
    adminDeletes: new Counter({
      name: "syncline_admin_deletes_total",
      help: "Shares and documents deleted through the admin API, by kind.",
      labelNames: ["kind"],
      registers,
    }),
  };
}
