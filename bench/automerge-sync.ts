// automerge-sync and automerge-memory: one real automerge-repo client pushes N documents × 10
// changes to a server, then a fresh client finds them all — against syncline's server and the
// reference `automerge-repo-sync-server` in the same run, each server in its own process, the
// clients in others, and an observer process that decides when every document is durable by
// loading what the server has on disk. Also runs the in-process floor (Automerge's own work for
// the server's share). Reports medians, ratios and the servers' RSS.

import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Decoder, Encoder } from "cbor-x";
import { WebSocket } from "ws";
import { type RoleProcess, startRole } from "./lib/child.js";
import { cpuOf } from "./lib/cpu.js";
import { rssOf, sampleRss } from "./lib/rss.js";
import { median, mib } from "./lib/stats.js";

/** Size and shape of one benchmark run. */
export interface AutomergeBenchOptions {
  readonly documents: number;
  readonly repetitions: number;
  /** How long after the last client left the servers' RSS is read again, ms. */
  readonly leaveWaitMs: number;
  /** Whether to wait `leaveWaitMs` (automerge-memory) or skip it (automerge-sync alone). */
  readonly memory: boolean;
  /**
   * Our server's idle eviction in memory mode, ms (`--automerge-idle-evict`); both servers' RSS is
   * read again this long plus 30 s after the last client left (`afterIdleEvict`).
   */
  readonly idleEvictMs: number;
  /** Only these servers (for investigating one); default both. */
  readonly servers?: readonly ServerKind[];
}

/** The servers under test. */
export type ServerKind = "syncline" | "reference";

/** One measured run against one server. */
interface Run {
  /** The push client's own time to create every document and change. */
  readonly creationSeconds: number;
  /** (a) From the client's last local change until every document is durable on the server. */
  readonly durableSeconds: number;
  /** (b) A fresh client's time until every `find` resolved with the right content. */
  readonly findSeconds: number;
  readonly findFailures: number;
  /** Times the find client lost the server during (b). */
  readonly findDisconnects: number;
  /** Server RSS in bytes at each step. */
  readonly rss: {
    idle: number;
    peakPush: number;
    afterPush: number;
    peakFind: number;
    afterLoad: number;
    afterLeave: number | undefined;
    /** Idle eviction + 30 s after the last client left: what eviction gave back. */
    afterIdleEvict: number | undefined;
  };
  /** CPU seconds each process used during (a) (from the last change) and during (b). */
  readonly cpu: {
    durable: { server: number; client: number; observer: number };
    find: { server: number; client: number };
  };
  /** Bytes in the server's data directory at the end. */
  readonly diskBytes: number;
}

/** One floor measurement, seconds of Automerge work. */
interface Floor {
  readonly push: number;
  readonly pushReplies: number;
  readonly find: number;
}

const roles = new URL("./roles/", import.meta.url);
const role = (name: string) => new URL(`${name}.js`, roles).pathname;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const phaseTimeoutMs = 300_000;
/** How long after idle eviction is due the RSS is read (the target's "idle-evict time + 30 s"). */
const afterEvictionMs = 30_000;

let shared: Promise<Results> | undefined;

interface Results {
  readonly options: AutomergeBenchOptions;
  readonly syncline: Run[];
  readonly reference: Run[];
  readonly floor: Floor[];
  readonly notes: string[];
}

/** Runs the workload once per process, for both benchmark names. */
function results(options: AutomergeBenchOptions): Promise<Results> {
  shared ??= runAll(options);
  return shared;
}

async function runAll(options: AutomergeBenchOptions): Promise<Results> {
  const dir = mkdtempSync(join(tmpdir(), "syncline-bench-am-"));
  const out: Results = {
    options,
    syncline: [],
    reference: [],
    floor: [],
    notes: [],
  };
  try {
    for (let i = 0; i < options.repetitions; i++) {
      // Alternate (and swap who goes first), so drift in the shared machine's load hits both.
      const order: ServerKind[] =
        i % 2 === 0 ? ["syncline", "reference"] : ["reference", "syncline"];
      for (const kind of order.filter((k) => options.servers?.includes(k) ?? true)) {
        const run = await attempt(kind, join(dir, `${kind}-${i}`), options, out.notes);
        if (run) out[kind].push(run);
      }
      const measured = await floor(options.documents).catch(async (error) => {
        // V8 has been seen to abort (a deoptimizer fatal error) in a long wasm loop: try again.
        out.notes.push(`floor: run failed, repeated: ${(error as Error).message}`);
        return floor(options.documents).catch(() => undefined);
      });
      if (measured) out.floor.push(measured);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

async function attempt(
  kind: ServerKind,
  dataDir: string,
  options: AutomergeBenchOptions,
  notes: string[],
): Promise<Run | undefined> {
  try {
    return await runOnce(kind, dataDir, options);
  } catch (error) {
    const note = `${kind}: run failed: ${(error as Error).message}`;
    process.stderr.write(`bench: ${note}\n`);
    notes.push(note);
    return undefined;
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function runOnce(
  kind: ServerKind,
  dataDir: string,
  options: AutomergeBenchOptions,
): Promise<Run> {
  const started: RoleProcess[] = [];
  const start = (name: string, args: string[], env?: NodeJS.ProcessEnv) => {
    const p = exitAware(startRole(role(name), args, { env }));
    started.push(p);
    return p;
  };
  try {
    // Start from clean disk state: the previous run's unsynced files (the reference writes
    // thousands without fsync, then its directory is removed) would otherwise be flushed by
    // the next server's first fsyncs, charging one server for the other's writes.
    execFileSync("sync");
    await sleep(500);
    const server =
      kind === "syncline"
        ? start(
            "syncline-server",
            [dataDir],
            options.memory
              ? { ...process.env, SYNCLINE_AUTOMERGE_IDLE_EVICT_MS: String(options.idleEvictMs) }
              : undefined,
          )
        : start("automerge-reference-server", [dataDir]);
    const url = String((await server.next("ready", 30_000)).url);
    if (kind === "syncline") await probeJoin(url);
    const pid = server.child.pid as number;
    await sleep(1000);
    const idle = rssOf(pid);

    const observer = start("automerge-observer", [
      kind === "syncline" ? "lmdb" : "nodefs",
      dataDir,
    ]);
    await observer.next("ready", 30_000);
    const pusher = start("automerge-client", ["push", url, String(options.documents)]);
    await pusher.next("ready", 30_000);
    const pushSampler = sampleRss([pid]);
    pusher.send({ type: "go" });
    const pushed = await pusher.next("pushed", phaseTimeoutMs);
    const pushPids = [pid, pusher.child.pid as number, observer.child.pid as number];
    const pushCpu = pushPids.map(cpuOf);
    const docs = pushed.docs as { id: string; heads: string[] }[];
    observer.send({ type: "watch", docs });
    const durable = await observer.next("durable", phaseTimeoutMs).catch(async (error) => {
      observer.send({ type: "status?" });
      const status = await observer.next("status", 5000).catch(() => undefined);
      throw new Error(`${(error as Error).message}; observer: ${JSON.stringify(status)}`);
    });
    process.stderr.write(
      `bench: ${kind}: observer ${JSON.stringify({ ...durable, type: undefined, at: undefined })}\n`,
    );
    const [serverPush, clientPush, observerPush] = pushPids.map(
      (p, i) => cpuOf(p) - (pushCpu[i] as number),
    );
    const afterPush = rssOf(pid);
    const [peakPush] = pushSampler.stop();
    await Promise.all([observer.stop(), pusher.stop()]);

    const finder = start("automerge-client", ["find", url]);
    await finder.next("ready", 30_000);
    const findSampler = sampleRss([pid]);
    const findPids = [pid, finder.child.pid as number];
    const findCpu = findPids.map(cpuOf);
    finder.send({ type: "find", ids: docs.map((d) => d.id) });
    const found = await finder.next("found", phaseTimeoutMs);
    const [serverFind, clientFind] = findPids.map((p, i) => cpuOf(p) - (findCpu[i] as number));
    const afterLoad = rssOf(pid);
    const [peakFind] = findSampler.stop();
    await finder.stop();
    let afterLeave: number | undefined;
    let afterIdleEvict: number | undefined;
    if (options.memory) {
      const left = Date.now();
      await sleep(options.leaveWaitMs);
      afterLeave = rssOf(pid);
      await sleep(left + options.idleEvictMs + afterEvictionMs - Date.now());
      afterIdleEvict = rssOf(pid);
    }
    await server.stop();
    const run: Run = {
      creationSeconds: (Number(pushed.createdAt) - Number(pushed.startedAt)) / 1000,
      durableSeconds: (Number(durable.at) - Number(pushed.lastChangeAt)) / 1000,
      findSeconds: (Number(found.doneAt) - Number(found.startedAt)) / 1000,
      findFailures: Number(found.failed) + Number(found.wrong),
      findDisconnects: Number(found.disconnects),
      rss: {
        idle,
        peakPush: peakPush as number,
        afterPush,
        peakFind: peakFind as number,
        afterLoad,
        afterLeave,
        afterIdleEvict,
      },
      cpu: {
        durable: {
          server: serverPush as number,
          client: clientPush as number,
          observer: observerPush as number,
        },
        find: { server: serverFind as number, client: clientFind as number },
      },
      diskBytes: sizeOf(dataDir),
    };
    process.stderr.write(`bench: ${kind}: ${JSON.stringify(brief(run))}\n`);
    return run;
  } finally {
    await Promise.all(started.map((p) => p.stop()));
  }
}

/** A role whose `next` also fails at once when the process has already exited. */
function exitAware(p: RoleProcess): RoleProcess {
  const next = p.next;
  return {
    ...p,
    next(type, timeoutMs) {
      const { exitCode, signalCode } = p.child;
      const gone = exitCode !== null || signalCode !== null;
      // A message queued before the exit is still delivered; only wait on a live process.
      return gone ? next(type, 1) : next(type, timeoutMs);
    },
  };
}

async function floor(documents: number): Promise<Floor> {
  const p = startRole(role("automerge-floor"), [String(documents)]);
  try {
    const m = await p.next("floor", phaseTimeoutMs);
    const result = {
      push: Number(m.push),
      pushReplies: Number(m.pushReplies),
      find: Number(m.find),
    };
    process.stderr.write(`bench: floor: ${JSON.stringify(result)}\n`);
    return result;
  } finally {
    await p.stop();
  }
}

/** Rejects unless the server answers an automerge-repo `join` with `peer` within 5 s. */
async function probeJoin(url: string): Promise<void> {
  const encoder = new Encoder({ tagUint8Array: false, useRecords: false });
  const decoder = new Decoder({ tagUint8Array: false, useRecords: false });
  const socket = new WebSocket(url);
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "peer" reply to join at ${url}`)), 5000);
      socket.on("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
      socket.on("open", () =>
        socket.send(
          encoder.encode({
            type: "join",
            senderId: "bench-probe",
            peerMetadata: { isEphemeral: true },
            supportedProtocolVersions: ["1"],
          }),
        ),
      );
      socket.on("message", (data: Buffer) => {
        clearTimeout(timer);
        const message = decoder.decode(data) as { type?: unknown };
        if (message?.type === "peer") resolve();
        else reject(new Error(`join at ${url} answered ${JSON.stringify(message?.type)}`));
      });
    });
  } finally {
    socket.terminate();
  }
}

function sizeOf(path: string): number {
  try {
    const stat = statSync(path);
    if (!stat.isDirectory()) return stat.size;
    return readdirSync(path).reduce((sum, name) => sum + sizeOf(join(path, name)), 0);
  } catch {
    return 0;
  }
}

const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;
const ratio = (a: number, b: number) => (b > 0 ? round(a / b) : Number.NaN);

function brief(run: Run) {
  return {
    creation: round(run.creationSeconds),
    durable: round(run.durableSeconds),
    find: round(run.findSeconds),
    failures: run.findFailures,
    disconnects: run.findDisconnects,
    cpu: run.cpu,
    rssMiB: Object.fromEntries(
      Object.entries(run.rss).map(([k, v]) => [k, v === undefined ? undefined : mib(v)]),
    ),
  };
}

function timeSummary(runs: Run[]) {
  const durable = median(runs.map((r) => r.durableSeconds));
  // A find run in which some `find` rejected (e.g. the reference cut a busy client's socket at
  // its 5 s keepalive and the client gave up) did not do the work: its time is left out.
  const complete = runs.filter((r) => r.findFailures === 0);
  const find = median(complete.map((r) => r.findSeconds));
  return {
    runs: runs.length,
    creationSeconds: round(median(runs.map((r) => r.creationSeconds))),
    durableSeconds: round(durable),
    findSeconds: round(find),
    findRunsWithFailures: runs.length - complete.length,
    endToEndSeconds: round(median(complete.map((r) => r.durableSeconds + r.findSeconds))),
    cpuSeconds: {
      durable: {
        server: round(median(runs.map((r) => r.cpu.durable.server))),
        client: round(median(runs.map((r) => r.cpu.durable.client))),
        observer: round(median(runs.map((r) => r.cpu.durable.observer))),
      },
      find: {
        server: round(median(runs.map((r) => r.cpu.find.server))),
        client: round(median(runs.map((r) => r.cpu.find.client))),
      },
    },
    each: runs.map((r) => ({
      creation: round(r.creationSeconds),
      durable: round(r.durableSeconds),
      find: round(r.findSeconds),
    })),
    findFailures: runs.map((r) => r.findFailures),
  };
}

/** automerge-sync: seconds until durable, seconds to find all, ratios reference / ours. */
export async function automergeSync(options: AutomergeBenchOptions) {
  const r = await results(options);
  const ours = timeSummary(r.syncline);
  const reference = timeSummary(r.reference);
  const floorPush = median(r.floor.map((f) => f.push));
  const floorFind = median(r.floor.map((f) => f.find));
  return {
    name: "automerge-sync",
    documents: options.documents,
    changesPerDocument: 10,
    repetitions: options.repetitions,
    syncline: ours,
    reference,
    floor: {
      pushSeconds: round(floorPush),
      findSeconds: round(floorFind),
      endToEndSeconds: round(floorPush + floorFind),
      pushReplyGenerationSeconds: round(median(r.floor.map((f) => f.pushReplies))),
    },
    ratio: {
      durable: ratio(reference.durableSeconds, ours.durableSeconds),
      find: ratio(reference.findSeconds, ours.findSeconds),
      endToEnd: ratio(reference.endToEndSeconds, ours.endToEndSeconds),
      // The servers' own CPU seconds, reference / syncline: what the server decides, apart
      // from the client and observer sharing the 2 cores.
      serverCpu: {
        durable: ratio(reference.cpuSeconds.durable.server, ours.cpuSeconds.durable.server),
        find: ratio(reference.cpuSeconds.find.server, ours.cpuSeconds.find.server),
        total: ratio(
          reference.cpuSeconds.durable.server + reference.cpuSeconds.find.server,
          ours.cpuSeconds.durable.server + ours.cpuSeconds.find.server,
        ),
      },
    },
    target: "reference / syncline end to end >= 5 (bar), >= 10 (moonshot)",
    notes: r.notes,
  };
}

function rssSummary(runs: Run[]) {
  const m = (pick: (r: Run) => number | undefined) => {
    const values = runs.map(pick).filter((v): v is number => v !== undefined);
    return values.length === 0 ? undefined : mib(median(values));
  };
  return {
    idleMiB: m((r) => r.rss.idle),
    peakPushMiB: m((r) => r.rss.peakPush),
    afterPushMiB: m((r) => r.rss.afterPush),
    peakFindMiB: m((r) => r.rss.peakFind),
    afterLoadMiB: m((r) => r.rss.afterLoad),
    afterLeaveMiB: m((r) => r.rss.afterLeave),
    afterIdleEvictMiB: m((r) => r.rss.afterIdleEvict),
    /** What idle eviction did not give back: RSS over idle, idle-evict + 30 s after leaving. */
    keptAfterIdleEvictMiB: m((r) =>
      r.rss.afterIdleEvict === undefined ? undefined : r.rss.afterIdleEvict - r.rss.idle,
    ),
    diskMiB: m((r) => r.diskBytes),
  };
}

/** automerge-memory: server RSS idle, after the load, and after every client left. */
export async function automergeMemory(options: AutomergeBenchOptions) {
  const r = await results(options);
  const ours = rssSummary(r.syncline);
  const reference = rssSummary(r.reference);
  const ratioOf = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined ? undefined : ratio(a, b);
  return {
    name: "automerge-memory",
    documents: options.documents,
    repetitions: options.repetitions,
    leaveWaitSeconds: options.memory ? options.leaveWaitMs / 1000 : undefined,
    idleEvictSeconds: options.idleEvictMs / 1000,
    afterIdleEvictSeconds: (options.idleEvictMs + afterEvictionMs) / 1000,
    syncline: ours,
    reference,
    ratio: {
      afterLoad: ratioOf(ours.afterLoadMiB, reference.afterLoadMiB),
      afterLeave: ratioOf(ours.afterLeaveMiB, reference.afterLeaveMiB),
      afterIdleEvict: ratioOf(ours.afterIdleEvictMiB, reference.afterIdleEvictMiB),
    },
    target:
      "RSS growth after the load <= 1/4 of the reference's; idle-evict + 30 s after the last client left, <= idle + 16 MiB",
    notes: r.notes,
  };
}
