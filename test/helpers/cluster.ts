// Several syncline nodes as production runs them, for end-to-end tests: a throwaway Postgres
// and Redis, N `syncline serve` children of the built CLI (dist/, as `npm run build` makes it)
// sharing that database and that Redis, each with its own data directory, all with one host key
// (a client that met one node must take the others for the same server), and HAProxy in front
// with docs/examples/haproxy.cfg. Faults come as functions: a node killed with SIGKILL or
// restarted, Redis or Postgres restarted. The nodes are plain HTTP on loopback, reachable
// directly as well as through HAProxy.

import type { ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "vitest";
import { generateOpenSshEd25519 } from "../../src/transport/auth/host-key.js";
import { type CliResult, serveEnv, spawnCli, stopServe, waitForLine } from "./cli.js";
import { haproxyMissing, startHaproxy, type TestHaproxy } from "./haproxy.js";
import { postgresMissing, startTestPostgres, type TestPostgres } from "./postgres-server.js";
import { redisMissing, startRedis, type TestRedis } from "./redis-server.js";
import { createTempDir } from "./temp-dir.js";

/**
 * Why a cluster cannot run here (no Postgres, redis-server or haproxy), or undefined when it can.
 * Under CI=true each missing one registers a failing test under `suite`; elsewhere the caller
 * skips its suite with `describe.skipIf(missing !== undefined)`.
 */
export function clusterMissing(suite: string): string | undefined {
  const postgres = postgresMissing(suite);
  const haproxy = haproxyMissing(suite);
  if (redisMissing !== undefined && process.env.CI) {
    describe(suite, () => {
      it("has redis-server (required under CI=true)", () => {
        throw new Error(`${suite} under CI=true: ${redisMissing}`);
      });
    });
  }
  return postgres ?? redisMissing ?? haproxy;
}

/** What the cluster runs. */
export interface ClusterOptions {
  /** How many nodes; 2 by default. */
  readonly nodes?: number;
  /** More `syncline serve` arguments for every node, e.g. `["--authorized-keys", file]`. */
  readonly args?: readonly string[];
  /** More environment for every node. */
  readonly env?: NodeJS.ProcessEnv;
}

/** One node. Its URL and port stay the same across restarts (HAProxy knows it by them). */
export interface ClusterNode {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** The running process, or undefined while the node is down. */
  readonly child: ChildProcess | undefined;
  /** What its processes so far printed on stderr (JSON log lines), restarts included. */
  logs(): string;
}

/** A running cluster; `stop()` ends all of it and removes its files. */
export interface TestCluster {
  readonly nodes: readonly ClusterNode[];
  /** The nodes' URLs, in order (node i is HAProxy's `node<i+1>`). */
  readonly nodeUrls: readonly string[];
  /** HAProxy's HTTP frontend, `http://127.0.0.1:<port>`: HTTP, share API, WebSockets. */
  readonly url: string;
  /** HAProxy's /wire passthrough, `ws://127.0.0.1:<port>`, for `send`/`recv` (`--server`). */
  readonly wireUrl: string;
  /** The host key every node uses (`--host-key`). */
  readonly hostKey: string;
  /** The database every node uses (`--postgres`). */
  readonly databaseUrl: string;
  readonly postgres: TestPostgres;
  readonly redis: TestRedis;
  readonly haproxy: TestHaproxy;
  /** Kills node `i` with SIGKILL (no shutdown at all) and waits until it is gone. */
  killNode(i: number): Promise<void>;
  /** Stops node `i` gracefully (SIGTERM) and waits until it exited. */
  stopNode(i: number): Promise<CliResult | undefined>;
  /**
   * Stops node `i` gracefully if it runs, starts it again on its port with its data, and waits
   * until it listens and HAProxy's health checks have it up.
   */
  restartNode(i: number): Promise<void>;
  /** Restarts Redis on its port, empty (the nodes' buses reconnect by themselves). */
  restartRedis(): Promise<void>;
  /** Restarts Postgres (fast shutdown) on its port with its data. */
  restartPostgres(): Promise<void>;
  stop(): Promise<void>;
}

/** Mutable state of one node. */
interface NodeState {
  port: number;
  readonly dataDir: string;
  child: ChildProcess | undefined;
  logs: string;
}

/**
 * Starts Postgres, Redis, `nodes` syncline nodes (started at once: the schema migration takes
 * turns by an advisory lock) and HAProxy; resolves once every node listens and HAProxy accepts.
 * Needs the CLI built (`npx tsc -p tsconfig.build.json` refreshes dist/ without the viewer).
 */
export async function startCluster(options: ClusterOptions = {}): Promise<TestCluster> {
  const count = options.nodes ?? 2;
  const root = await createTempDir("syncline-cluster-");
  const states: NodeState[] = [];
  const services: {
    postgres?: TestPostgres;
    redis?: TestRedis;
    haproxy?: TestHaproxy;
  } = {};
  // Never leave a node behind, even when a test run is cut short.
  const killOnExit = () => {
    for (const state of states) state.child?.kill("SIGKILL");
  };
  process.once("exit", killOnExit);
  let stopped = false;
  // The balancer first (no new clients), then the nodes (their shutdown still writes to the
  // store), then what they use.
  const cleanup = async () => {
    if (stopped) return;
    stopped = true;
    await services.haproxy?.stop();
    await Promise.all(states.map((state) => stopChild(state)));
    process.off("exit", killOnExit);
    await services.redis?.stop();
    await services.postgres?.remove();
    await root.remove();
  };

  try {
    const postgres = await startTestPostgres();
    services.postgres = postgres;
    const redis = await startRedis();
    services.redis = redis;
    const databaseUrl = await postgres.createDatabase();

    // Made here rather than by the first node, so no node can start before the key exists.
    const hostKey = join(root.path, "host_key");
    writeFileSync(hostKey, generateOpenSshEd25519("syncline cluster host key"), { mode: 0o600 });

    const start = async (state: NodeState) => {
      const child = spawnCli(
        [
          "serve",
          ...["--port", String(state.port), "--data", state.dataDir],
          ...["--postgres", databaseUrl, "--redis", redis.url, "--host-key", hostKey],
          // Restarts in tests need not wait the production grace for open sockets.
          ...["--shutdown-timeout", "1000"],
          ...(options.args ?? []),
        ],
        { env: { ...serveEnv(root.path), ...options.env } },
      );
      state.child = child;
      child.stderr?.on("data", (chunk: Buffer) => {
        state.logs += chunk.toString();
      });
      child.once("exit", () => {
        if (state.child === child) state.child = undefined;
      });
      // The start line names the port, which port 0 (the first start) only tells there.
      const line = await waitForLine(child, /^listening on http/, 30_000);
      state.port = Number(new URL(line.slice("listening on ".length).trim()).port);
    };

    for (let i = 0; i < count; i++) {
      const dataDir = join(root.path, `node-${i}`);
      await mkdir(dataDir);
      states.push({ port: 0, dataDir, child: undefined, logs: "" });
    }
    await Promise.all(states.map((state) => start(state)));

    const haproxy = await startHaproxy({
      backends: states.map((state) => ({ host: "127.0.0.1", port: state.port })),
    });
    services.haproxy = haproxy;

    const state = (i: number) => {
      const found = states[i];
      if (found === undefined) throw new Error(`cluster: no node ${i} (there are ${count})`);
      return found;
    };
    const nodes: ClusterNode[] = states.map((node) => ({
      get url() {
        return `http://127.0.0.1:${node.port}`;
      },
      get port() {
        return node.port;
      },
      dataDir: node.dataDir,
      get child() {
        return node.child;
      },
      logs: () => node.logs,
    }));
    return {
      nodes,
      nodeUrls: nodes.map((node) => node.url),
      url: haproxy.url,
      wireUrl: haproxy.wireUrl,
      hostKey,
      databaseUrl,
      postgres,
      redis,
      haproxy,
      async killNode(i) {
        const child = state(i).child;
        if (child === undefined) return;
        const exited = new Promise((resolveExit) => child.once("exit", resolveExit));
        child.kill("SIGKILL");
        await exited;
      },
      stopNode: (i) => stopChild(state(i)),
      async restartNode(i) {
        const node = state(i);
        await stopChild(node);
        await start(node);
        await haproxy.waitForServer(i, "UP");
      },
      restartRedis: () => redis.restart(),
      restartPostgres: () => postgres.restart(),
      stop: cleanup,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

/** Stops a node's process gracefully if it runs (SIGKILL after 10 s, as stopServe does). */
async function stopChild(state: NodeState): Promise<CliResult | undefined> {
  const child = state.child;
  if (child === undefined) return undefined;
  return stopServe(child);
}
