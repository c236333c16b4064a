// Starts real servers on port 0 with a fresh data directory, for integration tests.

import { pino } from "pino";
import { type ServerConfig, serverConfig } from "../../src/server/config.js";
import { type ServerOptions, type SynclineServer, startServer } from "../../src/server/server.js";
import { createTempDir } from "./temp-dir.js";

/** A running test server and the cleanup that stops it and removes its data directory. */
export interface TestServer {
  /** The server running now (a new one after each `restart()`). */
  readonly server: SynclineServer;
  readonly dataDir: string;
  /**
   * Shuts the server down gracefully (clients see close 1001) but keeps its data directory, so
   * `restart()` can bring it back. Nothing happens when it is already down.
   */
  halt(): Promise<void>;
  /**
   * Starts the server again on the same port with the same config and data directory (so the
   * same host key and authorized_keys), halting it first if it is running.
   */
  restart(): Promise<void>;
  /** Halts the server if it is running and removes its data directory. */
  stop(): Promise<void>;
}

/** A config for tests: the defaults, on loopback, port 0, quiet logs, short shutdown. */
export function testConfig(dataDir: string, overrides: Partial<ServerConfig> = {}): ServerConfig {
  return serverConfig({
    port: 0,
    dataDir,
    logLevel: "silent",
    shutdownTimeoutMs: 1000,
    ...overrides,
  });
}

/** Starts a server with its own temp data dir; `stop()` closes it and removes the dir. */
export async function startTestServer(
  overrides: Partial<ServerConfig> = {},
  options: Omit<ServerOptions, "config"> = {},
): Promise<TestServer> {
  const dir = await createTempDir("syncline-server-");
  const config = testConfig(dir.path, overrides);
  const start = (port: number) =>
    startServer({ logger: pino({ level: "silent" }), ...options, config: { ...config, port } });
  let server = await start(config.port).catch(async (error: unknown) => {
    await dir.remove();
    throw error;
  });
  // The real port, kept across restarts so clients (and proxies) find the server where it was.
  const port = server.port;
  let running = true;
  const halt = async () => {
    if (!running) return;
    running = false;
    await server.close();
  };
  return {
    get server() {
      return server;
    },
    dataDir: dir.path,
    halt,
    async restart() {
      await halt();
      server = await start(port);
      running = true;
    },
    async stop() {
      await halt();
      await dir.remove();
    },
  };
}
