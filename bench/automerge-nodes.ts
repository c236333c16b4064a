// automerge-nodes: a change's way from one real automerge-repo client to another editing the
// same document, each on its own node of one deployment (Postgres + Redis: the change is made
// durable by the writer's node, published on the bus and applied by the follower's node, which
// syncs it to its client), against both clients on one node with the same Postgres and no Redis.
// The writer appends one entry per change at a fixed interval, stamped with the machine's
// monotonic clock; the follower records when each arrives. Layouts alternate, rotating who goes
// first. Reports latency p50/p99 per layout (medians of the repetitions), their ratios and
// differences, and the CPU of the nodes, Postgres and Redis during the changes.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RoleProcess, startRole } from "./lib/child.js";
import { monotonicMs } from "./lib/clock.js";
import { cpuOf } from "./lib/cpu.js";
import { type BenchPostgres, startPostgres } from "./lib/postgres.js";
import { type BenchRedis, startRedis } from "./lib/redis.js";
import { median } from "./lib/stats.js";
import { startNodes } from "./lib/syncline-nodes.js";
import { difference, type ShareLayout } from "./share-nodes.js";

/** Size of a run. */
export interface AutomergeNodesOptions {
  /** Measured changes per run. */
  readonly changes: number;
  /** Changes before them, not measured (JIT, the document loaded on both nodes). */
  readonly warmUp: number;
  /**
   * Time between two changes, ms. Over 100: automerge-repo's client sends a document's changes
   * at most every 100 ms (DocSynchronizer's throttle); changes closer together would wait for
   * it, measuring the client's batching instead of the servers.
   */
  readonly intervalMs: number;
  readonly repetitions: number;
}

/** One measured run. */
interface Run {
  /** Over every measured change; one that never arrived counts as Infinity. */
  readonly latencyMs: { p50: number; p90: number; p99: number; max: number; min: number };
  readonly received: number;
  readonly expected: number;
  /** CPU seconds during the changes: the nodes together, Postgres's cluster, redis-server. */
  readonly cpuSeconds: { nodes: number; postgres: number; redis: number };
  readonly writer: Record<string, unknown>;
  readonly follower: Record<string, unknown>;
}

const editorRole = new URL("./roles/automerge-editor.js", import.meta.url).pathname;

const layouts = {
  oneNode: { nodes: 1, store: "postgres", redis: false },
  twoNodes: { nodes: 2, store: "postgres", redis: true },
} as const satisfies Record<string, ShareLayout>;
type LayoutName = keyof typeof layouts;

/** Runs the benchmark. */
export async function automergeNodes(options: AutomergeNodesOptions) {
  const dir = mkdtempSync(join(tmpdir(), "syncline-bench-am-nodes-"));
  const runs: Record<LayoutName, Run[]> = { oneNode: [], twoNodes: [] };
  const notes: string[] = [];
  let postgres: BenchPostgres | undefined;
  let redis: BenchRedis | undefined;
  try {
    postgres = await startPostgres();
    redis = await startRedis();
    const names = Object.keys(layouts) as LayoutName[];
    for (let i = 0; i < options.repetitions; i++) {
      for (let j = 0; j < names.length; j++) {
        const name = names[(i + j) % names.length] as LayoutName;
        try {
          const run = await runOnce(
            layouts[name],
            options,
            postgres,
            redis,
            join(dir, `${name}-${i}`),
          );
          process.stderr.write(
            `automerge-nodes: ${name} run ${i + 1}: ${run.received}/${run.expected} changes arrived, ` +
              `p50 ${run.latencyMs.p50} ms, p99 ${run.latencyMs.p99} ms, max ${run.latencyMs.max} ms, ` +
              `CPU s nodes/postgres/redis ${run.cpuSeconds.nodes}/${run.cpuSeconds.postgres}/${run.cpuSeconds.redis}\n`,
          );
          runs[name].push(run);
        } catch (error) {
          const note = `${name} run ${i + 1} failed: ${(error as Error).message}`;
          process.stderr.write(`automerge-nodes: ${note}\n`);
          notes.push(note);
        }
      }
    }
  } finally {
    await redis?.stop();
    await postgres?.remove();
    rmSync(dir, { recursive: true, force: true });
  }
  const summary = (list: Run[]) => ({
    runs: list.length,
    latencyMs: {
      p50: round(median(list.map((r) => r.latencyMs.p50))),
      p99: round(median(list.map((r) => r.latencyMs.p99))),
      max: round(median(list.map((r) => r.latencyMs.max))),
      min: round(median(list.map((r) => r.latencyMs.min))),
    },
    /** Measured changes that arrived / expected, median. */
    arrived: round(median(list.map((r) => r.received / r.expected)), 4),
    cpuSeconds: {
      nodes: round(median(list.map((r) => r.cpuSeconds.nodes))),
      postgres: round(median(list.map((r) => r.cpuSeconds.postgres))),
      redis: round(median(list.map((r) => r.cpuSeconds.redis))),
    },
    each: list,
  });
  const one = summary(runs.oneNode);
  const two = summary(runs.twoNodes);
  const ratio = (a: number, b: number) =>
    Number.isFinite(a) && Number.isFinite(b) && b > 0 ? round(a / b) : null;
  if (two.arrived < 1) {
    notes.push(
      `two nodes: only ${two.arrived * 100}% of the changes reached the client on the other node`,
    );
  }
  return {
    name: "automerge-nodes",
    ...options,
    layouts,
    oneNode: one,
    twoNodes: two,
    ratios: {
      p50TwoOverOne: ratio(two.latencyMs.p50, one.latencyMs.p50),
      p99TwoOverOne: ratio(two.latencyMs.p99, one.latencyMs.p99),
    },
    /** What crossing nodes adds, ms: two nodes' figure less one node's. */
    busHopMs: {
      p50: difference(two.latencyMs.p50, one.latencyMs.p50),
      p99: difference(two.latencyMs.p99, one.latencyMs.p99),
    },
    notes,
  };
}

async function runOnce(
  layout: ShareLayout,
  options: AutomergeNodesOptions,
  postgres: BenchPostgres,
  redis: BenchRedis,
  dataDir: string,
): Promise<Run> {
  const processes: RoleProcess[] = [];
  try {
    const nodes = await startNodes(
      layout.nodes,
      dataDir,
      { postgres: await postgres.createDatabase(), redis: layout.redis ? redis.url : undefined },
      processes,
    );
    const race = <T>(promise: Promise<T>) =>
      Promise.race([promise, ...processes.map((p) => p.exited)]);
    // The writer on the first node, the follower on the last (the same one with one node).
    const writer = startRole(editorRole, [nodes.ws[0] as string]);
    const follower = startRole(editorRole, [nodes.ws[nodes.ws.length - 1] as string]);
    processes.push(writer, follower);
    await race(Promise.all([writer.next("ready", 30_000), follower.next("ready", 30_000)]));
    writer.send({ type: "create" });
    const id = (await race(writer.next("created", 60_000))).id;
    follower.send({ type: "follow", id });
    const following = await race(follower.next("following", 60_000));
    if (following.error !== undefined) {
      throw new Error(`the follower could not find the document: ${following.error}`);
    }
    const cpu = () => ({
      nodes: nodes.pids.reduce((sum, pid) => sum + cpuOf(pid), 0),
      postgres: postgres.cpuSeconds(),
      redis: layout.redis ? cpuOf(redis.pid) : 0,
    });
    const startAt = monotonicMs() + 200;
    const before = cpu();
    writer.send({
      type: "write",
      startAt,
      intervalMs: options.intervalMs,
      warmUp: options.warmUp,
      count: options.changes,
    });
    const written = await race(writer.next("written", 600_000));
    const after = cpu();
    follower.send({
      type: "drain",
      warmUp: options.warmUp,
      count: options.changes,
      timeoutMs: 10_000,
    });
    const report = await race(follower.next("report", 60_000));
    const latency = report.latencyMs as Record<string, number | null>;
    const { type: _w, ...writerReport } = written;
    const { type: _f, latencyMs: _l, ...followerReport } = report;
    return {
      // Infinity (a change that never arrived) crossed IPC as null.
      latencyMs: Object.fromEntries(
        Object.entries(latency).map(([k, v]) => [k, v ?? Number.POSITIVE_INFINITY]),
      ) as unknown as Run["latencyMs"],
      received: Number(report.received),
      expected: Number(report.expected),
      cpuSeconds: {
        nodes: round(after.nodes - before.nodes),
        postgres: round(after.postgres - before.postgres),
        redis: round(after.redis - before.redis),
      },
      writer: writerReport,
      follower: followerReport,
    };
  } finally {
    await Promise.all(processes.map((p) => p.stop()));
  }
}

function round(value: number, digits = 2): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
