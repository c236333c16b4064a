// The bus a server's settings name: Redis when `--redis` is set (its driver, and ioredis, are
// loaded only then), else none: a single node has nobody to tell. Problems the bus cannot hand
// to a caller (an outage, a message dropped unread, a handler that threw) become metrics and logs.

import type { Logger } from "pino";
import type { Bus, BusErrorContext } from "../bus/bus.js";
import { describeError } from "../protocol/errors.js";
import type { ServerConfig } from "./config.js";
import type { BusMetrics } from "./metrics.js";

/**
 * Opens the configured bus, or undefined without `--redis`. Rejects with ERR_BUS_UNAVAILABLE
 * when Redis cannot be reached at start (a node that cannot hear the others must not serve).
 */
export async function openConfiguredBus(
  config: Pick<ServerConfig, "redis">,
  metrics: BusMetrics,
  logger: Logger,
): Promise<Bus | undefined> {
  if (config.redis === undefined) return undefined;
  const { openRedisBus } = await import("../bus/redis-bus.js");
  return openRedisBus({
    url: config.redis,
    onError: (error, context) => reportBusProblem(metrics, logger, error, context),
  });
}

/** Counts and logs one problem of the bus; an outage also marks it degraded until it resumes. */
export function reportBusProblem(
  metrics: BusMetrics,
  logger: Logger,
  error: unknown,
  context: BusErrorContext,
): void {
  metrics.problems.inc({ kind: context.kind });
  if (context.kind === "connection") {
    metrics.degraded.set(1);
    logger.error(
      { reason: describeError(error) },
      "bus: a connection to Redis is down; news from other nodes may be missed until it is back",
    );
  } else {
    logger.warn({ kind: context.kind, topic: context.topic, reason: describeError(error) }, "bus");
  }
}

/** Marks the bus healthy again each time it resumes; returns the stop. */
export function watchBusResume(bus: Bus, metrics: BusMetrics, logger: Logger): () => void {
  return bus.onResume(() => {
    metrics.degraded.set(0);
    logger.warn("bus: Redis is reachable again; catching up from the store");
  });
}
