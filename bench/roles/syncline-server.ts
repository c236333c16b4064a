// The syncline server role: the real server (as `syncline serve` builds it) with the transport
// on, in its own process; reports its URL to the parent.

import { pino } from "pino";
import { resolveServerConfig } from "../../src/server/config.js";
import { startServer } from "../../src/server/server.js";
import { roleChannel } from "../lib/child.js";

const [dataDir, authorizedKeys] = process.argv.slice(2);
const parent = roleChannel();
// Settings come from the environment as in `syncline serve` (SYNCLINE_SHARE_VIEWER_FLUSH_MS and
// the others, for experiments); unset ones keep their defaults, except the spool: the stream
// benchmark measures the relay (payloads above the 64 MiB retain limit), which a spool would turn
// into a disk write of every byte.
const config = resolveServerConfig({
  flags: {
    port: 0,
    dataDir,
    authorizedKeys,
    logLevel: "warn",
    shutdownTimeoutMs: 2000,
    spoolBytes: 0,
  },
  env: process.env,
});
const server = await startServer({ logger: pino({ level: "warn" }), config });
parent.send({ type: "ready", url: server.url.replace(/^http/, "ws") });
