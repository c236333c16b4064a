// A throwaway redis-server for integration tests: a free loopback port, no persistence, its own
// temp directory, and stop/restart for fault tests. A missing redis-server skips the tests that
// need it (locally) or fails them (CI=true); .ci/run installs Debian's redis-server.

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./free-port.js";
import { terminate } from "./terminate.js";

/** Debian's redis-server; SYNCLINE_REDIS_SERVER names another (or a missing one, to check CI). */
export const redisServerPath = process.env.SYNCLINE_REDIS_SERVER ?? "/usr/bin/redis-server";

/** Why Redis tests cannot run here, or undefined when they can. */
export const redisMissing = existsSync(redisServerPath)
  ? undefined
  : `${redisServerPath} is missing: install Debian's redis-server (apt-get install -y redis-server)`;

if (redisMissing && !process.env.CI) {
  console.warn(`redis tests skipped: ${redisMissing}`);
}

/** A running test Redis. */
export interface TestRedis {
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  /**
   * Stops the server (SIGKILL after 2 s of SIGTERM) and removes its directory; its clients see
   * their connections close. Harmless when stopped; `restart()` starts it again.
   */
  stop(): Promise<void>;
  /** Stops it if running, then starts it again on the same port (empty: nothing persists). */
  restart(): Promise<void>;
}

/** Starts redis-server on a free port; resolves once it answers PING. */
export async function startRedis(): Promise<TestRedis> {
  if (redisMissing) throw new Error(`redis tests: ${redisMissing}`);
  const port = await freePort();
  let running: { child: ChildProcess; dir: string } | undefined;
  // Never leave a server behind, even when a test run is cut short.
  const killOnExit = () => running?.child.kill("SIGKILL");

  const start = async () => {
    const dir = await mkdtemp(join(tmpdir(), "syncline-redis-"));
    try {
      running = { child: await launch(port, dir), dir };
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
    process.once("exit", killOnExit);
  };
  const stop = async () => {
    const current = running;
    running = undefined;
    if (current === undefined) return;
    process.off("exit", killOnExit);
    await terminate(current.child, 2000);
    await rm(current.dir, { recursive: true, force: true });
  };

  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop,
    async restart() {
      await stop();
      await start();
    },
  };
}

/** Spawns redis-server on `port` and waits until it answers PING (5 s at most). */
async function launch(port: number, dir: string): Promise<ChildProcess> {
  const args = [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no",
    "--dir",
    dir,
    "--daemonize",
    "no",
    "--loglevel",
    "warning",
  ];
  const child = spawn(redisServerPath, args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const deadline = Date.now() + 5000;
  while (!(await answersPing(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(
        `redis-server on port ${port} did not start: ${stderr.trim() || "no answer"}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return child;
}

/** True when something on `port` answers PING with PONG. */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    let reply = "";
    socket.setTimeout(500, () => socket.destroy());
    socket.on("connect", () => socket.write("PING\r\n"));
    socket.on("data", (chunk) => {
      reply += chunk.toString();
      if (reply.includes("\r\n")) socket.end();
    });
    socket.on("error", () => {});
    socket.on("close", () => resolve(reply.startsWith("+PONG")));
  });
}
