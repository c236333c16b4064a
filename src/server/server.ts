// The composition root: opens the store, builds the HTTP and WebSocket routing, opens the
// listeners, and shuts all of it down gracefully. It alone picks drivers.

import type { Logger } from "pino";
import type { Bus } from "../bus/bus.js";
import { StandardCloseCode } from "../protocol/close-codes.js";
import { describeError } from "../protocol/errors.js";
import type { Store } from "../storage/store.js";
import { watchStoreHealth } from "../storage/store-health.js";
import { addAdminRoutes } from "./admin-routes.js";
import {
  type AutomergeEndpoint,
  type AutomergeEndpointOptions,
  createAutomergeEndpoint,
} from "./automerge-endpoint.js";
import { addBaseRoutes, addMetricsRoute } from "./base-routes.js";
import { BodyBudget } from "./body-budget.js";
import type { ServerConfig } from "./config.js";
import { ConnectionLimits } from "./connection-limits.js";
import { parseHostPort } from "./host-port.js";
import { createRequestListener } from "./http-adapter.js";
import { httpStatusOf } from "./http-errors.js";
import { HttpRouter } from "./http-router.js";
import { type ConnectionGate, closeServer, type Listeners, openListeners } from "./listeners.js";
import { createLogger } from "./logger.js";
import { createServerMetrics, type ServerMetrics } from "./metrics.js";
import { openConfiguredBus, watchBusResume } from "./open-bus.js";
import { openConfiguredStore } from "./open-store.js";
import { OutputBudget } from "./output-budget.js";
import { RateLimits } from "./rate-limits.js";
import type { RequestGuards } from "./request-guards.js";
import {
  createShareEndpoint,
  type ShareEndpoint,
  type ShareEndpointOptions,
} from "./share-endpoint.js";
import { closeSockets } from "./socket-shutdown.js";
import { ClientAddresses } from "./trusted-proxies.js";
import { UnauthenticatedSockets } from "./unauthenticated-sockets.js";
import { UpgradeRouter } from "./upgrade-router.js";
import { version } from "./version.js";
import { addViewerPageRoutes } from "./viewer-routes.js";
import { createWireEndpoint, type WireEndpoint } from "./wire-endpoint.js";

/** What a caller may inject instead of the configured defaults (tests, embedding). */
export interface ServerOptions {
  readonly config: ServerConfig;
  /** Default: JSON logs on stderr at `config.logLevel`. */
  readonly logger?: Logger;
  /**
   * Default: the LMDB store in `config.dataDir`. The server closes it on shutdown, and watches
   * its writes (health, metrics): `SynclineServer.store` is that watched store.
   */
  readonly store?: Store;
  /** Tuning of the automerge endpoint beyond the config (tests: a short keepalive). */
  readonly automerge?: AutomergeEndpointOptions;
  /** Tuning of the live-share endpoint beyond the config (tests: a short keepalive). */
  readonly share?: ShareEndpointOptions;
  /** Lets a caller mount extra HTTP routes or WebSocket endpoints before listening. */
  readonly extend?: (routes: { http: HttpRouter; upgrades: UpgradeRouter }) => void;
  /**
   * Default: the Redis bus when `config.redis` is set, else none (one node). Tests inject a
   * memory bus to run several nodes in one process. The server closes it on shutdown.
   */
  readonly bus?: Bus;
  /** How often a store that can go away on its own (Postgres) is probed, ms (tests: shorter). */
  readonly storeProbeMs?: number;
}

/** A running server. */
export interface SynclineServer {
  /** `http://host:port` (or https), with the real port. */
  readonly url: string;
  readonly port: number;
  /** The Unix socket path, when one is served. */
  readonly unixPath: string | undefined;
  /** `http://host:port` of the metrics listener (`--metrics-listen`), when there is one. */
  readonly metricsUrl: string | undefined;
  /** The transport's host-key fingerprint (for clients to pin); undefined when it is off. */
  readonly hostFingerprint: string | undefined;
  readonly store: Store;
  readonly metrics: ServerMetrics;
  /** The live-share hub (create, sync, attach viewers) behind the share API. */
  readonly shares: ShareEndpoint["hub"];
  readonly logger: Logger;
  /** Graceful shutdown: refuse new work, close sockets with 1001, flush and close the store. */
  close(): Promise<void>;
}

/** Opens the store and the listeners; rejects (having released everything) if either fails. */
export async function startServer(options: ServerOptions): Promise<SynclineServer> {
  const { config } = options;
  const logger = options.logger ?? createLogger(config.logLevel);
  const metrics = createServerMetrics();
  const store = watchHealth(
    options.store ??
      (await openConfiguredStore(config, (error) =>
        // The reason only: pg's error carries its whole client object (kilobytes per line).
        logger.warn({ reason: describeError(error) }, "postgres: an idle connection failed"),
      )),
    metrics,
    logger,
  );
  let bus: Bus | undefined;
  try {
    bus = options.bus ?? (await openConfiguredBus(config, metrics.bus, logger));
  } catch (error) {
    await store.close();
    throw error;
  }
  const stopWatchingBus = bus === undefined ? () => {} : watchBusResume(bus, metrics.bus, logger);
  const bodies = new BodyBudget(config.httpBodyTotalBytes, (held) =>
    metrics.httpBodyBytes.set(held),
  );
  const output = new OutputBudget({
    perConnectionBytes: config.outputMaxBufferedBytes,
    totalBytes: config.outputTotalBufferedBytes,
    graceMs: config.outputGraceMs,
    onCut(stream, reason, bufferedBytes) {
      metrics.slowReaderCuts.inc({ endpoint: stream.endpoint });
      logger.info({ endpoint: stream.endpoint, bufferedBytes, reason }, "slow reader cut");
    },
    onTotal: (bytes) => metrics.outputBuffered.set(bytes),
  });
  let accepting = true;

  const guards = createGuards(config, metrics);
  const gate: ConnectionGate = {
    limits: new ConnectionLimits(config, metrics.limits),
    addresses: guards.addresses,
    metrics: metrics.limits,
  };
  const http = addBaseRoutes(new HttpRouter(), {
    version,
    startedAt: Date.now(),
    store,
    bus,
    metrics,
    isAccepting: () => accepting,
    // With a listener of its own, /metrics is served there only.
    serveMetrics: config.metricsListen === undefined,
    metricsToken: config.metricsToken,
  });
  const upgrades = new UpgradeRouter({
    accepted(endpoint, socket) {
      metrics.wsConnections.inc({ endpoint });
      socket.once("close", () => metrics.wsConnections.dec({ endpoint }));
    },
    refused(endpoint, error) {
      const status = httpStatusOf(error);
      metrics.upgradesRefused.inc({ endpoint, status: String(status) });
      logger.info(
        { endpoint, status, code: error.code, reason: error.message },
        "websocket upgrade refused",
      );
    },
    socketError(endpoint, error) {
      const code = (error as { code?: string }).code;
      logger.info({ endpoint, code, reason: error.message }, "websocket closed on error");
    },
  });
  let listeners: Listeners | undefined;
  let metricsListener: Listeners | undefined;
  let hostFingerprint: string | undefined;
  let automerge: AutomergeEndpoint | undefined;
  let share: ShareEndpoint | undefined;
  let wire: WireEndpoint | undefined;
  try {
    share = createShareEndpoint(config, store, http, metrics.share, logger, output, guards, {
      ...options.share,
      bus,
    });
    upgrades.route("/share_poll", share.endpoint);
    const hub = (share as ShareEndpoint).hub;
    addViewerPageRoutes(http, (id) => hub.pageStatus(id));
    wire = await createWireEndpoint(config, store, metrics.wire, logger, output, guards, bus);
    hostFingerprint = wire.hostFingerprint;
    upgrades.route("/wire", wire.endpoint);
    automerge = await createAutomergeEndpoint(
      config,
      store,
      metrics.automerge,
      logger,
      output,
      guards,
      { ...options.automerge, bus },
    );
    upgrades.fallback(automerge.endpoint);
    addAdminRoutes(http, {
      token: config.adminToken,
      shares: share.hub,
      documents: automerge.hub,
      rateLimits: guards.rateLimits,
      metrics: metrics.limits,
    });
    await share.hub.start();
    options.extend?.({ http, upgrades });
    listeners = await openListeners(
      config,
      {
        request: createRequestListener(http, metrics, logger, output, guards.addresses, bodies),
        upgrade: upgrades.handleUpgrade,
      },
      gate,
    );
    metricsListener = await openMetricsListener(config, metrics, logger, output, gate);
  } catch (error) {
    await Promise.all((listeners?.listeners ?? []).map((listener) => closeServer(listener, 0)));
    await automerge?.close();
    await share?.close();
    await wire?.close();
    output.stop();
    stopWatchingBus();
    await bus?.close();
    await store.close();
    throw error;
  }
  const open = listeners;
  logger.info({ url: open.url, unix: open.unixPath, version }, "listening");
  const stopProbing = probeStore(store, options.storeProbeMs ?? defaultStoreProbeMs);

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      accepting = false;
      stopProbing();
      upgrades.stopAccepting();
      const started = Date.now();
      const grace = config.shutdownTimeoutMs;
      const all = [...open.listeners, ...(metricsListener?.listeners ?? [])];
      const stopped = Promise.all(all.map((listener) => closeServer(listener, grace)));
      const goingAway = StandardCloseCode.goingAway;
      await closeSockets(upgrades.sockets, goingAway, "server shutting down", grace);
      await stopped;
      // Every change a client was told about is already durable; this settles the rest.
      await automerge?.close();
      await share.close();
      await wire?.close();
      output.stop();
      stopWatchingBus();
      await bus?.close();
      await store.close();
      logger.info({ durationMs: Date.now() - started }, "stopped");
    })();
    return closing;
  };

  return {
    url: open.url,
    hostFingerprint,
    port: open.port,
    unixPath: open.unixPath,
    metricsUrl: metricsListener?.url,
    store,
    metrics,
    shares: share.hub,
    logger,
    close,
  };
}

/** How often a store with a probe is checked: `/healthz` turns degraded this soon without traffic. */
const defaultStoreProbeMs = 5000;

/**
 * Probes `store` every `intervalMs` when its driver can (a database that may go away while
 * nothing reads or writes); the health watch records each outcome. Returns the stop.
 */
function probeStore(store: Store, intervalMs: number): () => void {
  const probe = store.probe;
  if (probe === undefined) return () => {};
  let running = false;
  const timer = setInterval(() => {
    if (running) return; // a probe waiting on a hung database is not stacked
    running = true;
    probe()
      .catch(() => {}) // recorded by the health watch (degraded, logged once)
      .finally(() => {
        running = false;
      });
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * `store` with its write failures counted and logged, and its degraded state (writes failing,
 * reads still served) in the metrics and `/healthz`.
 */
function watchHealth(store: Store, metrics: ServerMetrics, logger: Logger): Store {
  const failing = { writes: false, reads: false };
  const degraded = () => metrics.store.degraded.set(failing.writes || failing.reads ? 1 : 0);
  return watchStoreHealth(store, {
    writeFailed: (operation) => metrics.store.writeFailures.inc({ operation }),
    readableChanged(readable, error) {
      failing.reads = !readable;
      degraded();
      if (readable) logger.warn("store: reads succeed again");
      else logger.error({ err: error }, "store: reads are failing (database unreachable?)");
    },
    writableChanged(writable, error) {
      failing.writes = !writable;
      degraded();
      if (writable) logger.warn("store: writes succeed again; health is ok");
      else {
        logger.error(
          { err: error },
          "store: writes are failing (disk full or I/O error?); reads are still served, health is degraded",
        );
      }
    },
  });
}

/** Who clients are, their rate limits, and the cap on their unauthenticated WebSockets. */
function createGuards(config: ServerConfig, metrics: ServerMetrics): RequestGuards {
  return {
    addresses: new ClientAddresses(config.trustedProxies),
    rateLimits: new RateLimits(config, metrics.limits),
    unauthenticated: new UnauthenticatedSockets(
      config.maxUnauthenticatedWebSocketsPerAddress,
      metrics.limits,
    ),
  };
}

/** `--metrics-listen`: /metrics alone on its own plain-HTTP listener (no WebSockets). */
async function openMetricsListener(
  config: ServerConfig,
  metrics: ServerMetrics,
  logger: Logger,
  output: OutputBudget,
  gate: ConnectionGate,
): Promise<Listeners | undefined> {
  const where =
    config.metricsListen === undefined ? undefined : parseHostPort(config.metricsListen);
  if (where === undefined) return undefined;
  const router = addMetricsRoute(new HttpRouter(), metrics, config.metricsToken);
  const refuseUpgrades = new UpgradeRouter();
  const listeners = await openListeners(
    {
      ...config,
      ...where,
      unixSocket: undefined,
      tlsCert: undefined,
      tlsKey: undefined,
      proxyProtocol: false,
    },
    {
      request: createRequestListener(router, metrics, logger, output, gate.addresses),
      upgrade: refuseUpgrades.handleUpgrade,
    },
    gate,
  );
  logger.info({ url: listeners.url }, "metrics listening");
  return listeners;
}
