// share-nodes: live-share delivery across two nodes of one deployment. One publisher syncs one
// part per request at a fixed rate to one share, its syncs alternating between the nodes (a
// round-robin load balancer); N viewers are split over the nodes, so half of each sync's viewers
// are on the node that took it and half hear of it through Redis. Against the same publisher and
// viewers all on one node with the same Postgres and no Redis: the same workload on one node.
// A third layout, one node with Postgres and Redis, tells the bus's cost on the node (publishing
// every write) apart from the hop itself. The layouts alternate, rotating who goes first.
// Reports deliveries/s, publish → viewer latency p50/p99 (over all deliveries, and in the
// two-node layout apart for same-node and cross-node deliveries), CPU of every process, medians
// of the repetitions, the ratios two nodes / one node and the bus hop's cost (the differences
// of the p50s and of the p99s).

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RoleProcess, startRole } from "./lib/child.js";
import { monotonicMs } from "./lib/clock.js";
import { cpuOf, machineCpu } from "./lib/cpu.js";
import { type BenchPostgres, startPostgres } from "./lib/postgres.js";
import { type BenchRedis, startRedis } from "./lib/redis.js";
import { median } from "./lib/stats.js";
import { startNodes } from "./lib/syncline-nodes.js";

/** Size of a run. */
export interface ShareNodesOptions {
  readonly viewers: number;
  /** Syncs per second (one part each), over all nodes. */
  readonly rate: number;
  readonly partBytes: number;
  /** Publishing at the rate before the measured window (JIT, share loaded on every node), s. */
  readonly warmUpSeconds: number;
  readonly seconds: number;
  readonly repetitions: number;
}

/** Where the share lives: how many nodes, on which store, with or without the bus. */
export interface ShareLayout {
  readonly nodes: number;
  readonly store: "postgres" | "lmdb";
  readonly redis: boolean;
}

/** Latency quantiles of one kind of delivery, ms (Infinity: frames still missing). */
export interface Latency {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
  readonly count: number;
}

/** One measured run of one layout. */
export interface ShareRun {
  readonly deliveriesPerSecond: number;
  readonly latencyMs: Latency;
  /** Deliveries from the viewer's own node, and (several nodes) from the other one. */
  readonly sameNodeLatencyMs: Latency;
  readonly crossNodeLatencyMs: Latency | undefined;
  /** Measured frames received / (measured syncs sent × viewers). */
  readonly delivered: number;
  /**
   * CPU seconds during the measured window: every node together and each, Postgres's cluster,
   * redis-server, the viewers' and the publisher's processes, and the rest of the machine's.
   */
  readonly cpuSeconds: {
    nodes: number;
    eachNode: number[];
    postgres: number;
    redis: number;
    viewers: number;
    publisher: number;
    others: number;
  };
  readonly publisher: Record<string, unknown>;
  readonly viewers: Record<string, unknown>;
}

/** The services a layout may use, started once for a whole benchmark. */
export interface SharedServices {
  readonly postgres?: BenchPostgres | undefined;
  readonly redis?: BenchRedis | undefined;
}

const roles = new URL("./roles/", import.meta.url);
const role = (name: string) => new URL(`${name}.js`, roles).pathname;
const sessionID = "ses_bench_nodes001";

const layouts = {
  oneNode: { nodes: 1, store: "postgres", redis: false },
  oneNodeRedis: { nodes: 1, store: "postgres", redis: true },
  twoNodes: { nodes: 2, store: "postgres", redis: true },
} as const satisfies Record<string, ShareLayout>;
type LayoutName = keyof typeof layouts;

/** Runs the benchmark; `only`: these layouts alone (for investigating one; ratios need both). */
export async function shareNodes(options: ShareNodesOptions, only?: readonly string[]) {
  const dir = mkdtempSync(join(tmpdir(), "syncline-bench-share-nodes-"));
  const runs: Record<LayoutName, ShareRun[]> = { oneNode: [], oneNodeRedis: [], twoNodes: [] };
  const notes: string[] = [];
  const services: { postgres?: BenchPostgres; redis?: BenchRedis } = {};
  try {
    services.postgres = await startPostgres();
    services.redis = await startRedis();
    const names = (Object.keys(layouts) as LayoutName[]).filter((n) => only?.includes(n) ?? true);
    for (let i = 0; i < options.repetitions; i++) {
      for (let j = 0; j < names.length; j++) {
        const name = names[(i + j) % names.length] as LayoutName;
        try {
          const run = await runShareLayout(
            layouts[name],
            options,
            services,
            join(dir, `${name}-${i}`),
          );
          process.stderr.write(`share-nodes: ${name} run ${i + 1}: ${describe(run, options)}\n`);
          runs[name].push(run);
        } catch (error) {
          const note = `${name} run ${i + 1} failed: ${(error as Error).message}`;
          process.stderr.write(`share-nodes: ${note}\n`);
          notes.push(note);
        }
      }
    }
  } finally {
    await services.redis?.stop();
    await services.postgres?.remove();
    rmSync(dir, { recursive: true, force: true });
  }
  const one = summarizeShareRuns(runs.oneNode);
  const two = summarizeShareRuns(runs.twoNodes);
  return {
    name: "share-nodes",
    ...options,
    offeredDeliveriesPerSecond: options.rate * options.viewers,
    layouts,
    oneNode: one,
    oneNodeRedis: summarizeShareRuns(runs.oneNodeRedis),
    twoNodes: two,
    ratios: {
      /** Two nodes' deliveries/s over one node's. */
      deliveriesTwoOverOne: ratio(two.deliveriesPerSecond, one.deliveriesPerSecond),
      p50TwoOverOne: ratio(two.latencyMs.p50, one.latencyMs.p50),
      p99TwoOverOne: ratio(two.latencyMs.p99, one.latencyMs.p99),
    },
    /** What the bus hop adds, ms: two nodes' figure less one node's (medians of the runs). */
    busHopMs: {
      p50: difference(two.latencyMs.p50, one.latencyMs.p50),
      p99: difference(two.latencyMs.p99, one.latencyMs.p99),
      /** Within the two-node runs: cross-node deliveries less same-node ones. */
      crossLessSameP50: difference(two.crossNodeLatencyMs?.p50, two.sameNodeLatencyMs.p50),
      crossLessSameP99: difference(two.crossNodeLatencyMs?.p99, two.sameNodeLatencyMs.p99),
    },
    notes,
  };
}

/** Medians of a layout's runs (and the runs themselves). */
export function summarizeShareRuns(list: readonly ShareRun[]) {
  const latency = (pick: (run: ShareRun) => Latency | undefined) => {
    const values = list.map(pick).filter((l): l is Latency => l !== undefined);
    if (values.length === 0) return undefined;
    return {
      p50: round(median(values.map((l) => l.p50))),
      p99: round(median(values.map((l) => l.p99))),
      max: round(median(values.map((l) => l.max))),
    };
  };
  const cpu = (pick: (run: ShareRun) => number) => round(median(list.map(pick)));
  return {
    runs: list.length,
    deliveriesPerSecond: Math.round(median(list.map((r) => r.deliveriesPerSecond))),
    latencyMs: latency((r) => r.latencyMs) ?? { p50: Number.NaN, p99: Number.NaN, max: Number.NaN },
    sameNodeLatencyMs: latency((r) => r.sameNodeLatencyMs) ?? {
      p50: Number.NaN,
      p99: Number.NaN,
      max: Number.NaN,
    },
    crossNodeLatencyMs: latency((r) => r.crossNodeLatencyMs),
    delivered: round(median(list.map((r) => r.delivered)), 4),
    /**
     * Measured syncs the nodes did not accept (a 503 when two nodes' turns collided): never
     * retried by the publisher, their frames count as missing, as in share-fanout.
     */
    refusedSyncs: median(
      list.map((r) => Number(r.publisher.measuredSent) - Number(r.publisher.measuredOk)),
    ),
    /** The publisher's time from sending a sync to its answer, ms. */
    answerMs: {
      p50: round(median(list.map((r) => (r.publisher.answerMs as Latency).p50))),
      p99: round(median(list.map((r) => (r.publisher.answerMs as Latency).p99))),
    },
    cpuSeconds: {
      nodes: cpu((r) => r.cpuSeconds.nodes),
      postgres: cpu((r) => r.cpuSeconds.postgres),
      redis: cpu((r) => r.cpuSeconds.redis),
      viewers: cpu((r) => r.cpuSeconds.viewers),
      publisher: cpu((r) => r.cpuSeconds.publisher),
      others: cpu((r) => r.cpuSeconds.others),
    },
    each: list,
  };
}

/**
 * One run of `layout` at `options`' load (its `repetitions` is not read): fresh nodes (on a
 * fresh database of `services.postgres`, or LMDB under `dataDir`), publisher and viewers'
 * processes, all stopped at the end.
 */
export async function runShareLayout(
  layout: ShareLayout,
  options: ShareNodesOptions,
  services: SharedServices,
  dataDir: string,
): Promise<ShareRun> {
  const processes: RoleProcess[] = [];
  try {
    const postgres = layout.store === "postgres" ? services.postgres : undefined;
    if (layout.store === "postgres" && postgres === undefined) throw new Error("no Postgres");
    if (layout.redis && services.redis === undefined) throw new Error("no Redis");
    const nodes = await startNodes(
      layout.nodes,
      dataDir,
      {
        postgres: await postgres?.createDatabase(),
        redis: layout.redis ? services.redis?.url : undefined,
      },
      processes,
    );
    const race = <T>(promise: Promise<T>) =>
      Promise.race([promise, ...processes.map((p) => p.exited)]);
    const publisher = startRole(role("share-node-publisher"), [
      nodes.http.join(","),
      sessionID,
      String(options.partBytes),
    ]);
    processes.push(publisher);
    const id = String((await race(publisher.next("ready"))).id);
    const viewers = startRole(role("share-node-viewers"), [
      nodes.ws.map((url) => `${url}/share_poll?id=${id}`).join(","),
      String(options.viewers),
    ]);
    processes.push(viewers);
    const ready = await race(viewers.next("ready"));

    const startAt = monotonicMs() + 200;
    const measureFrom = startAt + options.warmUpSeconds * 1000;
    const measureTo = measureFrom + options.seconds * 1000;
    const capacity = Math.ceil(options.rate * options.seconds * options.viewers * 1.2) + 1000;
    viewers.send({ type: "go", measureFrom, measureTo, capacity });
    publisher.send({
      type: "go",
      startAt,
      measureFrom,
      endAt: measureTo,
      rate: options.rate,
      drainMs: 10_000,
    });
    const pids = [publisher.child.pid as number, viewers.child.pid as number];
    const redisPid = layout.redis ? services.redis?.pid : undefined;
    // CPU of every process over the measured window, read at its edges.
    const cpuAt = () => ({
      nodes: nodes.pids.map(cpuOf),
      publisher: cpuOf(pids[0] as number),
      viewers: cpuOf(pids[1] as number),
      postgres: postgres?.cpuSeconds() ?? 0,
      redis: redisPid === undefined ? 0 : cpuOf(redisPid),
      machine: machineCpu(),
    });
    const at = (time: number) =>
      new Promise<ReturnType<typeof cpuAt>>((resolve) =>
        setTimeout(() => resolve(cpuAt()), Math.max(0, time - monotonicMs())),
      );
    const [from, to] = await Promise.all([at(measureFrom), at(measureTo)]);
    const published = await race(publisher.next("done"));
    const perNode = published.nodes as { measuredSent: number }[];
    viewers.send({
      type: "drain",
      sentPerNode: perNode.map((node) => node.measuredSent),
      timeoutMs: 10_000,
    });
    const received = await race(viewers.next("report"));
    const eachNode = nodes.pids.map((_, i) => round((to.nodes[i] ?? 0) - (from.nodes[i] ?? 0)));
    const spent = (key: "publisher" | "viewers" | "postgres" | "redis" | "machine") =>
      round(to[key] - from[key]);
    const nodesCpu = round(eachNode.reduce((sum, cpu) => sum + cpu, 0));
    const known =
      nodesCpu + spent("publisher") + spent("viewers") + spent("postgres") + spent("redis");
    const {
      type: _v,
      latencyMs,
      sameNodeLatencyMs,
      crossNodeLatencyMs,
      ...viewersReport
    } = received;
    const { type: _p, ...publisherReport } = published;
    const expected = Number(received.expected);
    return {
      deliveriesPerSecond: Number(received.windowReceived) / options.seconds,
      latencyMs: finite(latencyMs),
      sameNodeLatencyMs: finite(sameNodeLatencyMs),
      crossNodeLatencyMs: crossNodeLatencyMs === undefined ? undefined : finite(crossNodeLatencyMs),
      delivered: expected === 0 ? 0 : Number(received.measuredReceived) / expected,
      cpuSeconds: {
        nodes: nodesCpu,
        eachNode,
        postgres: spent("postgres"),
        redis: spent("redis"),
        viewers: spent("viewers"),
        publisher: spent("publisher"),
        others: round(spent("machine") - known),
      },
      publisher: publisherReport,
      viewers: { ...viewersReport, connectMs: ready.connectMs },
    };
  } finally {
    await Promise.all(processes.map((p) => p.stop()));
  }
}

/** Latencies as the role reported them: Infinity (a frame still missing) crossed IPC as null. */
function finite(value: unknown): Latency {
  return Object.fromEntries(
    Object.entries(value as Record<string, number | null>).map(([k, v]) => [
      k,
      v ?? Number.POSITIVE_INFINITY,
    ]),
  ) as unknown as Latency;
}

/** One line on a run, for stderr. */
export function describe(run: ShareRun, options: ShareNodesOptions): string {
  const cross = run.crossNodeLatencyMs;
  return (
    `${Math.round(run.deliveriesPerSecond)} deliveries/s of ${options.rate * options.viewers} offered, ` +
    `p50 ${run.latencyMs.p50} ms, p99 ${run.latencyMs.p99} ms` +
    (cross
      ? ` (same node p50 ${run.sameNodeLatencyMs.p50}/p99 ${run.sameNodeLatencyMs.p99}, ` +
        `cross p50 ${cross.p50}/p99 ${cross.p99})`
      : "") +
    `, delivered ${(run.delivered * 100).toFixed(2)}%, CPU s nodes/postgres/redis/viewers/publisher ` +
    `${run.cpuSeconds.nodes}/${run.cpuSeconds.postgres}/${run.cpuSeconds.redis}/` +
    `${run.cpuSeconds.viewers}/${run.cpuSeconds.publisher}, other work ${run.cpuSeconds.others}, ` +
    `syncs refused ${Number(run.publisher.measuredSent) - Number(run.publisher.measuredOk)}`
  );
}

/** `a / b` rounded, or null when either is not finite (frames left missing) or b is 0. */
export function ratio(a: number, b: number): number | null {
  return Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? round(a / b) : null;
}

/** `a - b` rounded, or null when either is missing or not finite. */
export function difference(a: number | undefined, b: number | undefined): number | null {
  return a !== undefined && b !== undefined && Number.isFinite(a) && Number.isFinite(b)
    ? round(a - b)
    : null;
}

function round(value: number, digits = 2): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
