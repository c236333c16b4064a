// store-postgres-vs-lmdb: one Syncline node on Postgres (`--postgres`, no Redis) against one on
// its embedded LMDB store (durability "flush", the default), same workloads, same run,
// alternating and rotating who goes first:
// - automerge: automerge-sync's workload (a real automerge-repo client creates N documents × 10
//   changes offline, goes online and waits until it sees the server acknowledge every one; then
//   a fresh client finds them all), timed from the client's side (roles/automerge-ack-client.ts:
//   the disk observer of automerge-sync reads LMDB files, which Postgres has none of). CPU is the
//   server process's and, for Postgres, its cluster's too: with LMDB the store's work is in the
//   server process, with Postgres most of it is in the database's.
// - share: share-nodes' one-node layout (bench/share-nodes.ts) on each store: deliveries/s and
//   publish → viewer latency at a fixed rate.
// Both stores acknowledge a write once it is on disk (LMDB's flush, Postgres's WAL flush with
// synchronous_commit on and fsync on). Ratios are Postgres / LMDB.

import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RoleProcess, startRole } from "./lib/child.js";
import { cpuOf } from "./lib/cpu.js";
import { type BenchPostgres, startPostgres } from "./lib/postgres.js";
import { median } from "./lib/stats.js";
import { startNodes } from "./lib/syncline-nodes.js";
import {
  runShareLayout,
  type ShareNodesOptions,
  type ShareRun,
  summarizeShareRuns,
} from "./share-nodes.js";

/** Size of the workloads. */
export interface StoreOptions {
  readonly documents: number;
  readonly changesPerDocument: number;
  readonly share: Omit<ShareNodesOptions, "repetitions">;
  readonly repetitions: number;
}

type StoreKind = "lmdb" | "postgres";

/** One automerge run on one store. */
interface AutomergeRun {
  /** Online → the client saw every document acknowledged, s. */
  readonly ackSeconds: number;
  /** A fresh client's finds, until every one resolved or was rejected, s. */
  readonly findSeconds: number;
  readonly found: number;
  readonly failed: number;
  /** CPU seconds of the server process and of Postgres's cluster (0 with LMDB), per phase. */
  readonly cpuSeconds: {
    push: { server: number; postgres: number };
    find: { server: number; postgres: number };
  };
}

const ackClient = new URL("./roles/automerge-ack-client.js", import.meta.url).pathname;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const phaseTimeoutMs = 300_000;

/** Runs the benchmark. */
export async function storePostgresVsLmdb(options: StoreOptions) {
  const dir = mkdtempSync(join(tmpdir(), "syncline-bench-store-"));
  const automerge: Record<StoreKind, AutomergeRun[]> = { lmdb: [], postgres: [] };
  const share: Record<StoreKind, ShareRun[]> = { lmdb: [], postgres: [] };
  const notes: string[] = [];
  let postgres: BenchPostgres | undefined;
  const attempt = async <T>(what: string, run: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await run();
    } catch (error) {
      const note = `${what} failed: ${(error as Error).message}`;
      process.stderr.write(`store-postgres-vs-lmdb: ${note}\n`);
      notes.push(note);
      return undefined;
    }
  };
  try {
    postgres = await startPostgres();
    const pg = postgres;
    for (let i = 0; i < options.repetitions; i++) {
      const order: StoreKind[] = i % 2 === 0 ? ["lmdb", "postgres"] : ["postgres", "lmdb"];
      for (const kind of order) {
        const what = `automerge ${kind} run ${i + 1}`;
        const run = await attempt(what, () =>
          automergeRun(kind, options, pg, join(dir, `am-${kind}-${i}`)),
        );
        if (run === undefined) continue;
        process.stderr.write(
          `store-postgres-vs-lmdb: ${what}: ack ${run.ackSeconds} s, find ${run.findSeconds} s ` +
            `(${run.found} found, ${run.failed} failed), CPU s ${JSON.stringify(run.cpuSeconds)}\n`,
        );
        automerge[kind].push(run);
      }
      for (const kind of order) {
        const what = `share ${kind} run ${i + 1}`;
        const run = await attempt(what, () =>
          runShareLayout(
            { nodes: 1, store: kind, redis: false },
            { ...options.share, repetitions: 1 },
            { postgres: pg },
            join(dir, `share-${kind}-${i}`),
          ),
        );
        if (run === undefined) continue;
        process.stderr.write(
          `store-postgres-vs-lmdb: ${what}: ${Math.round(run.deliveriesPerSecond)} deliveries/s, ` +
            `p50 ${run.latencyMs.p50} ms, p99 ${run.latencyMs.p99} ms, delivered ` +
            `${(run.delivered * 100).toFixed(2)}%, CPU s node/postgres ${run.cpuSeconds.nodes}/` +
            `${run.cpuSeconds.postgres}, other work ${run.cpuSeconds.others}\n`,
        );
        share[kind].push(run);
      }
    }
  } finally {
    await postgres?.remove();
    rmSync(dir, { recursive: true, force: true });
  }
  const am = {
    lmdb: automergeSummary(automerge.lmdb),
    postgres: automergeSummary(automerge.postgres),
  };
  const sh = { lmdb: summarizeShareRuns(share.lmdb), postgres: summarizeShareRuns(share.postgres) };
  return {
    name: "store-postgres-vs-lmdb",
    repetitions: options.repetitions,
    automerge: {
      documents: options.documents,
      changesPerDocument: options.changesPerDocument,
      ...am,
      /** Postgres / LMDB. */
      ratios: {
        /** The server process alone. */
        serverCpu: ratio(am.postgres.serverCpuSeconds, am.lmdb.serverCpuSeconds),
        /** The server and Postgres's cluster against the server on LMDB: the store's full cost. */
        serverAndDatabaseCpu: ratio(
          am.postgres.serverCpuSeconds + am.postgres.postgresCpuSeconds,
          am.lmdb.serverCpuSeconds,
        ),
        ackSeconds: ratio(am.postgres.ackSeconds, am.lmdb.ackSeconds),
        findSeconds: ratio(am.postgres.findSeconds, am.lmdb.findSeconds),
      },
    },
    share: {
      ...options.share,
      offeredDeliveriesPerSecond: options.share.rate * options.share.viewers,
      ...sh,
      /** Postgres / LMDB. */
      ratios: {
        deliveries: ratio(sh.postgres.deliveriesPerSecond, sh.lmdb.deliveriesPerSecond),
        p50: ratio(sh.postgres.latencyMs.p50, sh.lmdb.latencyMs.p50),
        p99: ratio(sh.postgres.latencyMs.p99, sh.lmdb.latencyMs.p99),
        serverCpu: ratio(sh.postgres.cpuSeconds.nodes, sh.lmdb.cpuSeconds.nodes),
        serverAndDatabaseCpu: ratio(
          sh.postgres.cpuSeconds.nodes + sh.postgres.cpuSeconds.postgres,
          sh.lmdb.cpuSeconds.nodes,
        ),
      },
    },
    notes,
  };
}

function automergeSummary(list: readonly AutomergeRun[]) {
  const m = (pick: (run: AutomergeRun) => number) => round(median(list.map(pick)));
  return {
    runs: list.length,
    ackSeconds: m((r) => r.ackSeconds),
    findSeconds: m((r) => r.findSeconds),
    /** Finds rejected, worst run. */
    failed: Math.max(0, ...list.map((r) => r.failed)),
    /** Push + find, the server process. */
    serverCpuSeconds: m((r) => r.cpuSeconds.push.server + r.cpuSeconds.find.server),
    /** Push + find, Postgres's cluster (0 on LMDB). */
    postgresCpuSeconds: m((r) => r.cpuSeconds.push.postgres + r.cpuSeconds.find.postgres),
    each: list,
  };
}

async function automergeRun(
  kind: StoreKind,
  options: StoreOptions,
  postgres: BenchPostgres,
  dataDir: string,
): Promise<AutomergeRun> {
  const processes: RoleProcess[] = [];
  const start = (args: string[]) => {
    const p = startRole(ackClient, args);
    processes.push(p);
    return p;
  };
  try {
    // Start from clean disk state: the previous run's unflushed writes would otherwise be
    // flushed by this one's first fsyncs (as automerge-sync does).
    execFileSync("sync");
    await sleep(500);
    const db = kind === "postgres" ? await postgres.createDatabase() : undefined;
    const nodes = await startNodes(1, dataDir, { postgres: db }, processes);
    const pid = nodes.pids[0] as number;
    const url = nodes.ws[0] as string;
    // Every wait ends at once if the server or the client it waits on dies (not the pusher,
    // stopped before the finds).
    const race = <T>(promise: Promise<T>, client: RoleProcess) =>
      Promise.race([promise, client.exited, ...nodes.processes.map((p) => p.exited)]);
    const cpu = () => ({
      server: cpuOf(pid),
      postgres: kind === "postgres" ? postgres.cpuSeconds() : 0,
    });
    const spent = (from: ReturnType<typeof cpu>, to: ReturnType<typeof cpu>) => ({
      server: round(to.server - from.server),
      postgres: round(to.postgres - from.postgres),
    });
    await sleep(1000);
    const pusher = start([
      "push",
      url,
      String(options.documents),
      String(options.changesPerDocument),
    ]);
    await race(pusher.next("ready", 30_000), pusher);
    pusher.send({ type: "go" });
    await race(pusher.next("created", phaseTimeoutMs), pusher);
    const pushFrom = cpu();
    const onlineAt = Date.now();
    pusher.send({ type: "online" });
    const acked = await race(pusher.next("acknowledged", phaseTimeoutMs), pusher);
    const pushTo = cpu();
    await pusher.stop();
    const finder = start(["find", url]);
    await race(finder.next("ready", 30_000), finder);
    const findFrom = cpu();
    const findAt = Date.now();
    finder.send({ type: "find", ids: acked.ids });
    const found = await race(finder.next("found", phaseTimeoutMs), finder);
    const findTo = cpu();
    return {
      ackSeconds: (Number(acked.at) - onlineAt) / 1000,
      findSeconds: (Number(found.at) - findAt) / 1000,
      found: Number(found.found),
      failed: Number(found.failed),
      cpuSeconds: { push: spent(pushFrom, pushTo), find: spent(findFrom, findTo) },
    };
  } finally {
    await Promise.all(processes.map((p) => p.stop()));
  }
}

/** `a / b` rounded, or null when either is not finite or b is 0. */
function ratio(a: number, b: number): number | null {
  return Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? round(a / b) : null;
}

function round(value: number, digits = 2): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
