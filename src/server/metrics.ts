// The server's Prometheus registry: process metrics plus syncline's own counters. One registry
// per server instance, so several servers in one process (tests) never share counters.

import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { AutomergeTally } from "./automerge-tally.js";
import { createLimitMetrics, type LimitMetrics } from "./limit-metrics.js";
import { createWireMetrics, type WireMetrics } from "./wire-metrics.js";

/** The metrics every part of the server reports into. Features add their own to `registry`. */
export interface ServerMetrics {
  readonly registry: Registry;
  /** HTTP requests answered, by route kind and status. */
  readonly httpRequests: Counter<"route" | "status">;
  /** Time to answer HTTP requests, by route kind. */
  readonly httpDuration: Histogram<"route">;
  /** Bytes of request bodies held now, over every connection (http_body_total_bytes bounds it). */
  readonly httpBodyBytes: Gauge;
  /** Open WebSocket connections, by endpoint. */
  readonly wsConnections: Gauge<"endpoint">;
  /** WebSocket upgrades refused before the handshake, by endpoint and HTTP status. */
  readonly upgradesRefused: Counter<"endpoint" | "status">;
  /** Connections cut because their peer did not read (the output budget), by endpoint. */
  readonly slowReaderCuts: Counter<"endpoint">;
  /** Bytes queued over all connections and not yet read by their peers, at the last check. */
  readonly outputBuffered: Gauge;
  /** Automerge sync: documents, peers, messages, bytes and save latency. */
  readonly automerge: AutomergeMetrics;
  /**
   * Live shares: shares in memory and their content bytes, viewers, publishes, deliveries,
   * publish → broadcast time.
   */
  readonly share: ShareMetrics;
  /** The store's writes: failures, and whether it is degraded (writes failing, reads served). */
  readonly store: StoreMetrics;
  /** The bus to the other nodes (`--redis`): its outages and what it could not deliver. */
  readonly bus: BusMetrics;
  /** The transport on /wire and its channels: connections, refusals, bytes, transfers. */
  readonly wire: WireMetrics;
  /** Connection caps, rate limits, timeouts, the share quota and expiry, admin deletes. */
  readonly limits: LimitMetrics;
}

/** What the store's health watch reports. */
export interface StoreMetrics {
  /** Writes and prefix deletes the store could not commit, by operation. */
  readonly writeFailures: Counter<"operation">;
  /** 1 while the store's writes fail (health "degraded"), else 0. */
  readonly degraded: Gauge;
}

/** What the bus to the other nodes reports. */
export interface BusMetrics {
  /** 1 while a connection to Redis is down (news from other nodes may be missed), else 0. */
  readonly degraded: Gauge;
  /** Problems by kind: a message dropped unread, a handler or publish that failed, an outage. */
  readonly problems: Counter<"kind">;
}

/** What the live-share endpoint reports. */
export interface ShareMetrics {
  /** Shares loaded in memory now. */
  readonly activeShares: Gauge;
  /** Bytes of content JSON the loaded shares hold now, as share_memory_budget counts them. */
  readonly loadedBytes: Gauge;
  /** Connected viewer WebSockets now. */
  readonly viewers: Gauge;
  /** Sync requests that reached the publish path (after the secret check). */
  readonly publishes: Counter;
  /** Frames handed to viewers' sockets (full states' frames, catch-up and live updates). */
  readonly deliveries: Counter;
  /** Viewers closed with 4429 for falling behind. */
  readonly slowViewers: Counter;
  /** Time from a sync reaching the publish path to its frames handed to every viewer. */
  readonly publishToBroadcast: Histogram;
  /** Bytes of content JSON all stored shares hold (counted with a quota or expiry). */
  readonly storedBytes: Gauge;
  /** Shares deleted for not being written within share_expire_after_ms. */
  readonly expired: Counter;
  /** Deleted share ids remembered (answered 410), at most share_tombstone_max. */
  readonly tombstones: Gauge;
}

/** What the automerge endpoint reports. */
export interface AutomergeMetrics {
  /** Sync messages and document loads are counted here; the metrics below take them at scrapes. */
  readonly tally: AutomergeTally;
  /** Documents loaded into memory (from the store or new). */
  readonly documentsLoaded: Counter;
  /** Documents evicted from memory. */
  readonly documentsEvicted: Counter;
  /** Documents in memory now. */
  readonly documentsInMemory: Gauge;
  /** Joined automerge-repo peers now. */
  readonly peers: Gauge;
  /** Sync messages, by direction (in, out). */
  readonly syncMessages: Counter<"direction">;
  /** Bytes of sync data, by direction (in, out). */
  readonly syncBytes: Counter<"direction">;
  /** Time for a group commit of document changes to become durable. */
  readonly saveDuration: Histogram;
  /** Time to load a document from the store. */
  readonly loadDuration: Histogram;
  /** Fresh peers answered from the cached answer of a previous fresh peer. */
  readonly freshAnswersReused: Counter;
  /** Ephemeral messages (or one peer's copy) not relayed, by reason. */
  readonly ephemeralDropped: Counter<"reason">;
  /** Entries of the ephemeral relay's dedupe map, and the bytes they are counted at. */
  readonly ephemeralSessions: Gauge;
  readonly ephemeralSessionBytes: Gauge;
}

/** One metric as the operations guide lists it. */
export interface MetricDescription {
  readonly name: string;
  readonly type: "counter" | "gauge" | "histogram";
  readonly labels: readonly string[];
  readonly help: string;
}

/**
 * Creates a fresh registry with the server's metrics and, unless `processMetrics` is false, the
 * default process metrics (CPU, memory, event-loop lag) prefixed `syncline_`.
 */
export function createServerMetrics(options: { processMetrics?: boolean } = {}): ServerMetrics {
  const registry = new Registry();
  if (options.processMetrics !== false) {
    collectDefaultMetrics({ register: registry, prefix: "syncline_" });
  }
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
    httpBodyBytes: new Gauge({
      name: "syncline_http_body_bytes",
      help: "Bytes of request bodies held now (read, parsed or applied), over every connection.",
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
    slowReaderCuts: new Counter({
      name: "syncline_slow_reader_cuts_total",
      help: "Connections cut because their peer did not read what it was sent (the output budget), by endpoint.",
      labelNames: ["endpoint"],
      registers: [registry],
    }),
    outputBuffered: new Gauge({
      name: "syncline_output_buffered_bytes",
      help: "Bytes queued for all connections and not yet read by their peers (the output budget's total).",
      registers: [registry],
    }),
    automerge: createAutomergeMetrics(registry),
    share: createShareMetrics(registry),
    store: createStoreMetrics(registry),
    bus: createBusMetrics(registry),
    wire: createWireMetrics(registry),
    limits: createLimitMetrics(registry),
  };
}

/** The server's own metrics (not the process ones), in registration order: the docs' table. */
export function describeMetrics(): MetricDescription[] {
  const { registry } = createServerMetrics({ processMetrics: false });
  return registry.getMetricsAsArray().map((metric) => {
    const {
      name,
      help,
      labelNames = [],
    } = metric as unknown as {
      name: string;
      help: string;
      labelNames?: string[];
    };
    const type =
      metric instanceof Counter ? "counter" : metric instanceof Gauge ? "gauge" : "histogram";
    return { name, type, labels: labelNames, help };
  });
}

function createStoreMetrics(registry: Registry): StoreMetrics {
  const registers = [registry];
  return {
    writeFailures: new Counter({
      name: "syncline_store_write_failures_total",
      help: "Store writes (write, deletePrefix) that could not be committed: a full disk, an I/O error.",
      labelNames: ["operation"],
      registers,
    }),
    degraded: new Gauge({
      name: "syncline_store_degraded",
      help: "1 while the store's writes fail and the server serves reads only (health degraded), else 0.",
      registers,
    }),
  };
}

function createBusMetrics(registry: Registry): BusMetrics {
  const registers = [registry];
  return {
    degraded: new Gauge({
      name: "syncline_bus_degraded",
      help: "1 while a connection to Redis (--redis) is down and news from other nodes may be missed (health degraded), else 0.",
      registers,
    }),
    problems: new Counter({
      name: "syncline_bus_problems_total",
      help: "Bus problems by kind: connection (an outage began), dropped (a message unread: malformed or from a newer release), handler, publish (news not sent to other nodes), resume.",
      labelNames: ["kind"],
      registers,
    }),
  };
}

function createShareMetrics(registry: Registry): ShareMetrics {
  const registers = [registry];
  return {
    activeShares: new Gauge({
      name: "syncline_share_active",
      help: "Live shares loaded in memory.",
      registers,
    }),
    loadedBytes: new Gauge({
      name: "syncline_share_loaded_bytes",
      help: "Bytes of content JSON held by the live shares loaded in memory (share_memory_budget bounds it).",
      registers,
    }),
    viewers: new Gauge({
      name: "syncline_share_viewers",
      help: "Connected live-share viewers.",
      registers,
    }),
    publishes: new Counter({
      name: "syncline_share_publishes_total",
      help: "Live-share sync requests that reached the publish path.",
      registers,
    }),
    deliveries: new Counter({
      name: "syncline_share_deliveries_total",
      help: "Frames sent to live-share viewers.",
      registers,
    }),
    slowViewers: new Counter({
      name: "syncline_share_slow_viewers_total",
      help: "Live-share viewers closed with 4429 for falling behind.",
      registers,
    }),
    publishToBroadcast: new Histogram({
      name: "syncline_share_publish_broadcast_seconds",
      help: "Time from a share sync reaching the publish path to its frames sent to every viewer.",
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    }),
    storedBytes: new Gauge({
      name: "syncline_share_stored_bytes",
      help: "Bytes of content JSON all stored shares hold (counted with a quota or expiry).",
      registers,
    }),
    expired: new Counter({
      name: "syncline_share_expired_total",
      help: "Shares deleted because they were not written within share_expire_after_ms.",
      registers,
    }),
    tombstones: new Gauge({
      name: "syncline_share_tombstones",
      help: "Deleted share ids remembered, answered 410 until created again (at most share_tombstone_max).",
      registers,
    }),
  };
}

function createAutomergeMetrics(registry: Registry): AutomergeMetrics {
  const registers = [registry];
  const seconds = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1];
  // The tallied metrics take what was summed since the last scrape when they are collected.
  const tally = new AutomergeTally(() => metrics);
  const collect = () => tally.flush();
  const metrics: AutomergeMetrics = {
    tally,
    documentsLoaded: new Counter({
      name: "syncline_automerge_documents_loaded_total",
      help: "Automerge documents loaded into memory.",
      registers,
      collect,
    }),
    documentsEvicted: new Counter({
      name: "syncline_automerge_documents_evicted_total",
      help: "Automerge documents evicted from memory.",
      registers,
    }),
    documentsInMemory: new Gauge({
      name: "syncline_automerge_documents_in_memory",
      help: "Automerge documents in memory now.",
      registers,
    }),
    peers: new Gauge({
      name: "syncline_automerge_peers",
      help: "Joined automerge-repo peers.",
      registers,
    }),
    syncMessages: new Counter({
      name: "syncline_automerge_sync_messages_total",
      help: "Automerge sync messages, by direction.",
      labelNames: ["direction"],
      registers,
      collect,
    }),
    syncBytes: new Counter({
      name: "syncline_automerge_sync_bytes_total",
      help: "Bytes of Automerge sync data, by direction.",
      labelNames: ["direction"],
      registers,
      collect,
    }),
    saveDuration: new Histogram({
      name: "syncline_automerge_save_duration_seconds",
      help: "Time for a group commit of document changes to become durable.",
      buckets: seconds,
      registers,
    }),
    freshAnswersReused: new Counter({
      name: "syncline_automerge_fresh_answers_reused_total",
      help: "Fresh peers answered from the cached answer of a previous fresh peer.",
      registers,
    }),
    loadDuration: new Histogram({
      name: "syncline_automerge_load_duration_seconds",
      help: "Time to load an Automerge document from the store.",
      buckets: seconds,
      registers,
      collect,
    }),
    ephemeralDropped: new Counter({
      name: "syncline_automerge_ephemeral_dropped_total",
      help: "Ephemeral messages not relayed (too-large, session-id), and copies not sent to a peer over its output budget (slow-peer), by reason.",
      labelNames: ["reason"],
      registers,
    }),
    ephemeralSessions: new Gauge({
      name: "syncline_automerge_ephemeral_sessions",
      help: "Entries (sender, session) the ephemeral relay remembers to relay each message once.",
      registers,
    }),
    ephemeralSessionBytes: new Gauge({
      name: "syncline_automerge_ephemeral_session_bytes",
      help: "Bytes the ephemeral relay's dedupe entries are counted at.",
      registers,
    }),
  };
  return metrics;
}
