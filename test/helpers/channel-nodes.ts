// A node's `/wire` endpoint, as the server builds it (createWireEndpoint), on its own HTTP
// listener with its own data directory, over a store and a bus the test hands it: several of
// them over one store and one memory-bus network play a deployment of several nodes, for the
// channels' tests. (The server passes its bus to the endpoint itself once server.ts does; this
// builds just the endpoint, so it tests exactly the code under test.)

import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { pino } from "pino";
import type { Bus } from "../../src/bus/bus.js";
import type { ServerConfig } from "../../src/server/config.js";
import { createServerMetrics, type ServerMetrics } from "../../src/server/metrics.js";
import { OutputBudget } from "../../src/server/output-budget.js";
import { RateLimits } from "../../src/server/rate-limits.js";
import { ClientAddresses } from "../../src/server/trusted-proxies.js";
import { UnauthenticatedSockets } from "../../src/server/unauthenticated-sockets.js";
import { UpgradeRouter } from "../../src/server/upgrade-router.js";
import { createWireEndpoint } from "../../src/server/wire-endpoint.js";
import type { Store } from "../../src/storage/store.js";
import { testConfig } from "./server.js";
import { createTempDir } from "./temp-dir.js";

/** A running node's wire endpoint. */
export interface WireNode {
  /** `http://127.0.0.1:<port>`, for `clientFor`. */
  readonly url: string;
  readonly port: number;
  readonly metrics: ServerMetrics;
  /** A gauge of the node's channel metrics, read as a scrape would. */
  gauge(name: "bufferedBytes" | "channels"): Promise<number>;
  /** Kept bytes by where, as `syncline_channel_kept_bytes` says. */
  keptBytes(where: "store" | "spool"): Promise<number>;
  /** Closes its sockets, stops its channel hub, removes its data directory. */
  stop(): Promise<void>;
}

/** Starts one node's `/wire` endpoint over `store`, joined to the others by `bus`. */
export async function startWireNode(
  store: Store,
  bus: Bus | undefined,
  overrides: Partial<ServerConfig>,
): Promise<WireNode> {
  const dir = await createTempDir("syncline-wire-node-");
  const config = testConfig(dir.path, overrides);
  const metrics = createServerMetrics({ processMetrics: false });
  const logger = pino({ level: "silent" });
  const output = new OutputBudget({
    perConnectionBytes: config.outputMaxBufferedBytes,
    totalBytes: config.outputTotalBufferedBytes,
    graceMs: config.outputGraceMs,
  });
  const guards = {
    addresses: new ClientAddresses(config.trustedProxies),
    rateLimits: new RateLimits(config, metrics.limits),
    unauthenticated: new UnauthenticatedSockets(
      config.maxUnauthenticatedWebSocketsPerAddress,
      metrics.limits,
    ),
  };
  const wire = await createWireEndpoint(config, store, metrics.wire, logger, output, guards, bus);
  const upgrades = new UpgradeRouter().route("/wire", wire.endpoint);
  const http = createServer((_request, response) => {
    response.statusCode = 404;
    response.end();
  });
  http.on("upgrade", upgrades.handleUpgrade);
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const { port } = http.address() as AddressInfo;
  const value = async (metric: { get(): Promise<{ values: { value: number }[] }> }) =>
    (await metric.get()).values[0]?.value ?? 0;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    metrics,
    gauge: (name) => value(metrics.wire[name]),
    async keptBytes(where) {
      const { values } = await metrics.wire.keptBytes.get();
      return values.find((sample) => sample.labels.where === where)?.value ?? 0;
    },
    async stop() {
      upgrades.stopAccepting();
      for (const socket of upgrades.sockets) socket.terminate();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      await wire.close();
      output.stop();
      await dir.remove();
    },
  };
}
