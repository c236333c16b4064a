// A throwaway redis-server for a benchmark: a free loopback port, no persistence (the bus is
// pub/sub only: nothing is stored), its own temp directory, removed at the end.

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./free-port.js";

/** Debian's redis-server. */
const redisServerPath = "/usr/bin/redis-server";

/** A running redis-server. */
export interface BenchRedis {
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/** Starts redis-server on a free port; resolves once it answers PING. */
export async function startRedis(): Promise<BenchRedis> {
  if (!existsSync(redisServerPath)) {
    throw new Error(`${redisServerPath} is missing (apt-get install -y redis-server)`);
  }
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "syncline-bench-redis-"));
  const child = spawn(
    redisServerPath,
    [
      ...["--port", String(port), "--bind", "127.0.0.1", "--dir", dir],
      ...["--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning"],
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  // Never leave a server behind, even when the benchmark is cut short.
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const stop = async () => {
    process.off("exit", killOnExit);
    await terminate(child);
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 5000;
  while (!(await answersPing(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(
        `redis-server on port ${port} did not start: ${stderr.trim() || "no answer"}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { url: `redis://127.0.0.1:${port}`, pid: child.pid as number, stop };
}

/** SIGTERM, SIGKILL after 2 s; resolves once it exited. */
function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill("SIGKILL"), 2000);
    child.once("exit", () => {
      clearTimeout(force);
      resolve();
    });
    child.kill("SIGTERM");
  });
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
