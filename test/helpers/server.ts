// Starts real servers on port 0 with a fresh data directory, for integration tests.

import { pino } from "pino";
import type { ServerConfig } from "../../src/server/config.js";
import { type ServerOptions, type SynclineServer, startServer } from "../../src/server/server.js";
import { createTempDir } from "./temp-dir.js";

/** A running test server and the cleanup that stops it and removes its data directory. */
export interface TestServer {
  readonly server: SynclineServer;
  readonly dataDir: string;
  stop(): Promise<void>;
}

/** A config for tests: loopback, port 0, quiet logs, short shutdown. */
export function testConfig(dataDir: string, overrides: Partial<ServerConfig> = {}): ServerConfig {
  return {
    host: "127.0.0.1",
    port: 0,
    dataDir,
    unixSocket: undefined,
    tlsCert: undefined,
    tlsKey: undefined,
    logLevel: "silent",
    durability: "flush",
    shutdownTimeoutMs: 1000,
    authorizedKeys: undefined,
    hostKey: undefined,
    retainBytes: 64 * 1024 * 1024,
    heartbeatMs: 20_000,
    heartbeatGraceMs: 10_000,
    ...overrides,
  };
}

/** Starts a server with its own temp data dir; `stop()` closes it and removes the dir. */
export async function startTestServer(
  overrides: Partial<ServerConfig> = {},
  options: Omit<ServerOptions, "config"> = {},
): Promise<TestServer> {
  const dir = await createTempDir("syncline-server-");
  const config = testConfig(dir.path, overrides);
  const server = await startServer({ logger: pino({ level: "silent" }), ...options, config }).catch(
    async (error: unknown) => {
      await dir.remove();
      throw error;
    },
  );
  return {
    server,
    dataDir: dir.path,
    async stop() {
      await server.close();
      await dir.remove();
    },
  };
}
