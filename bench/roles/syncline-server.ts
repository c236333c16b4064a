// The syncline server role: the real server (as `syncline serve` builds it) with the transport
// on, in its own process; reports its URL to the parent.

import { pino } from "pino";
import { startServer } from "../../src/server/server.js";
import { roleChannel } from "../lib/child.js";

const [dataDir, authorizedKeys] = process.argv.slice(2);
const parent = roleChannel();
const server = await startServer({
  logger: pino({ level: "warn" }),
  config: {
    host: "127.0.0.1",
    port: 0,
    dataDir: dataDir as string,
    unixSocket: undefined,
    tlsCert: undefined,
    tlsKey: undefined,
    logLevel: "warn",
    durability: "flush",
    shutdownTimeoutMs: 2000,
    authorizedKeys,
    hostKey: undefined,
    retainBytes: 64 * 1024 * 1024,
    heartbeatMs: 20_000,
    heartbeatGraceMs: 10_000,
    // Unset: the default, as in `syncline serve` (set for experiments with the batch interval).
    ...(process.env.SYNCLINE_SHARE_VIEWER_FLUSH_MS
      ? { shareViewerFlushMs: Number(process.env.SYNCLINE_SHARE_VIEWER_FLUSH_MS) }
      : {}),
  },
});
parent.send({ type: "ready", url: server.url.replace(/^http/, "ws") });
