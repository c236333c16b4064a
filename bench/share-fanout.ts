// share-fanout: one publisher syncs one part per request to a live share at a fixed rate; N
// viewers (all in one separate process) receive every update. Syncline's real server (LMDB,
// durability as default: flush before the 200 and before the broadcast) against the strongest
// raw `ws` broadcaster we could write (roles/share-raw-server.ts: frames encoded once, one batch
// per event-loop turn, one write per socket, slow sockets paused; no storage, no validation) and
// socket.io room broadcast, in the same run, alternating. Reports deliveries/s (update frames received by
// all viewers per second), publish → viewer latency p50/p99, the servers' RSS and CPU, medians of
// the repetitions and the ratios to each peer.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RoleProcess, startRole } from "./lib/child.js";
import { monotonicMs } from "./lib/clock.js";
import { cpuOf, machineCpu } from "./lib/cpu.js";
import { rssOf, sampleRss } from "./lib/rss.js";
import { median, mib } from "./lib/stats.js";

/** Size of a run. */
export interface ShareFanoutOptions {
  readonly viewers: number;
  /** Syncs per second (one part each). */
  readonly rate: number;
  /** Bytes of each part's JSON content. */
  readonly partBytes: number;
  /** Publishing at the rate before the measured window (JIT, store, buffers), s. */
  readonly warmUpSeconds: number;
  /** The measured window, s. */
  readonly seconds: number;
  readonly repetitions: number;
  /** Only these servers (for investigating one; ratios to a missing one are null). */
  readonly only?: readonly FanoutContender[];
}

/** The servers under test. */
export type FanoutContender = "syncline" | "rawWs" | "socketIo";

/** One measured run. */
export interface Run {
  readonly deliveriesPerSecond: number;
  /** Over every measured frame expected; one missing at the end counts as Infinity. */
  readonly latencyMs: {
    p50: number;
    p90: number;
    p99: number;
    max: number;
    mean: number;
    p50FirstHalf: number;
    p50SecondHalf: number;
  };
  /** Measured frames received / (measured syncs sent × viewers). */
  readonly delivered: number;
  readonly serverRss: { connectedMiB: number; peakMiB: number };
  /**
   * CPU seconds of each process during the measured window; `others`: the rest of the machine's
   * (other work on the shared machine, and kernel work charged to no process).
   */
  readonly cpuSeconds: { server: number; viewers: number; publisher: number; others: number };
  readonly publisher: Record<string, unknown>;
  readonly viewers: Record<string, unknown>;
}

const roles = new URL("./roles/", import.meta.url);
const role = (name: string) => new URL(`${name}.js`, roles).pathname;
const sessionID = "ses_bench_fanout01";
const contenders: readonly FanoutContender[] = ["syncline", "rawWs", "socketIo"];

/** Runs the benchmark. */
export async function shareFanout(options: ShareFanoutOptions) {
  const dir = mkdtempSync(join(tmpdir(), "syncline-bench-fanout-"));
  const runs: Record<FanoutContender, Run[]> = {
    syncline: [],
    rawWs: [],
    socketIo: [],
  };
  try {
    for (let i = 0; i < options.repetitions; i++) {
      // Alternate, rotating who goes first, so drift in the shared machine's load hits all alike.
      for (let j = 0; j < contenders.length; j++) {
        const kind = contenders[(i + j) % contenders.length] as FanoutContender;
        if (options.only && !options.only.includes(kind)) continue;
        const run = await runOne(kind, options, join(dir, `data-${i}`));
        process.stderr.write(`share-fanout: ${kind} run ${i + 1}: ${describe(run, options)}\n`);
        runs[kind].push(run);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const summary = (list: Run[]) => ({
    deliveriesPerSecond: Math.round(median(list.map((r) => r.deliveriesPerSecond))),
    latencyMs: {
      p50: round(median(list.map((r) => r.latencyMs.p50))),
      p99: round(median(list.map((r) => r.latencyMs.p99))),
      max: round(median(list.map((r) => r.latencyMs.max))),
      p50FirstHalf: round(median(list.map((r) => r.latencyMs.p50FirstHalf))),
      p50SecondHalf: round(median(list.map((r) => r.latencyMs.p50SecondHalf))),
    },
    delivered: round(median(list.map((r) => r.delivered)), 4),
    serverRssMiB: {
      connected: round(median(list.map((r) => r.serverRss.connectedMiB))),
      peak: round(median(list.map((r) => r.serverRss.peakMiB))),
    },
    cpuSeconds: {
      server: round(median(list.map((r) => r.cpuSeconds.server))),
      viewers: round(median(list.map((r) => r.cpuSeconds.viewers))),
      publisher: round(median(list.map((r) => r.cpuSeconds.publisher))),
    },
    runs: list,
  });
  const syncline = summary(runs.syncline);
  const rawWs = summary(runs.rawWs);
  const socketIo = summary(runs.socketIo);
  const deliveriesRatio = ratio(syncline.deliveriesPerSecond, rawWs.deliveriesPerSecond);
  const p99Ratio = ratio(rawWs.latencyMs.p99, syncline.latencyMs.p99);
  return {
    name: "share-fanout",
    ...options,
    offeredDeliveriesPerSecond: options.rate * options.viewers,
    syncline,
    rawWs,
    socketIo,
    ratios: {
      deliveriesVsRawWs: deliveriesRatio,
      /** The raw loop's p99 over ours: >= 0.8 means ours is at most 1.25x. */
      rawWsP99OverOurs: p99Ratio,
      deliveriesVsSocketIo: ratio(syncline.deliveriesPerSecond, socketIo.deliveriesPerSecond),
      socketIoP99OverOurs: ratio(socketIo.latencyMs.p99, syncline.latencyMs.p99),
    },
    target: "deliveries/s >= 0.98x the raw loop's; p99 <= 1.25x the raw loop's (same run)",
    targetMet: {
      deliveries: deliveriesRatio !== null && deliveriesRatio >= 0.98,
      p99: p99Ratio !== null && p99Ratio >= 0.8,
    },
  };
}

/** `a / b` rounded, or null when either is not finite (a contender that left frames missing). */
function ratio(a: number, b: number): number | null {
  return Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? round(a / b) : null;
}

function round(value: number, digits = 2): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** One line on a run, for stderr. */
export function describe(run: Run, options: ShareFanoutOptions): string {
  const offered = options.rate * options.viewers;
  return (
    `${Math.round(run.deliveriesPerSecond)} deliveries/s of ${offered} offered, ` +
    `p50 ${run.latencyMs.p50} ms, p99 ${run.latencyMs.p99} ms, max ${run.latencyMs.max} ms, ` +
    `delivered ${(run.delivered * 100).toFixed(2)}%, server RSS peak ${run.serverRss.peakMiB} MiB, ` +
    `CPU s server/viewers/publisher ${run.cpuSeconds.server}/${run.cpuSeconds.viewers}/${run.cpuSeconds.publisher}`
  );
}

/** Starts the server of `kind`; resolves with its role and its http:// URL. */
async function startServerRole(
  kind: FanoutContender,
  dataDir: string,
): Promise<{ server: RoleProcess; base: string; viewerUrl: (id: string) => string }> {
  if (kind === "syncline") {
    // The real server as `syncline serve` builds it (bench/roles/syncline-server.ts): LMDB in a
    // fresh directory, durability "flush" (the default).
    const server = startRole(role("syncline-server"), [dataDir]);
    const ws = String((await server.next("ready")).url);
    const base = ws.replace(/^ws/, "http");
    return { server, base, viewerUrl: (id) => `${ws}/share_poll?id=${id}` };
  }
  const server =
    kind === "socketIo"
      ? startRole(role("share-socketio-server"))
      : startRole(role("share-raw-server"));
  const base = String((await server.next("ready")).url);
  const viewerUrl =
    kind === "socketIo"
      ? () => base
      : (id: string) => `${base.replace(/^http/, "ws")}/share_poll?id=${id}`;
  return { server, base, viewerUrl };
}

/**
 * One run of `kind` at `options`' load (its `repetitions` and `only` are not read): fresh server,
 * publisher and viewers' processes, stopped at the end; syncline's data under `${dataDir}-kind`.
 */
export async function runOne(
  kind: FanoutContender,
  options: ShareFanoutOptions,
  dataDir: string,
): Promise<Run> {
  const processes: RoleProcess[] = [];
  try {
    const { server, base, viewerUrl } = await startServerRole(kind, `${dataDir}-${kind}`);
    processes.push(server);
    const race = <T>(promise: Promise<T>) =>
      Promise.race([promise, ...processes.map((p) => p.exited)]);
    const publisher = startRole(role("share-publisher"), [
      base,
      sessionID,
      String(options.partBytes),
    ]);
    processes.push(publisher);
    const id = String((await race(publisher.next("ready"))).id);
    const viewers = startRole(role("share-viewers"), [
      kind === "socketIo" ? "socketio" : "ws",
      viewerUrl(id),
      String(options.viewers),
    ]);
    processes.push(viewers);
    const ready = await race(viewers.next("ready"));
    const pids = processes.map((p) => p.child.pid as number);
    const connectedRss = rssOf(pids[0] as number);
    const sampler = sampleRss([pids[0] as number]);

    const startAt = monotonicMs() + 200;
    const measureFrom = startAt + options.warmUpSeconds * 1000;
    const measureTo = measureFrom + options.seconds * 1000;
    // Room for every measured latency (and some): rate × window × viewers.
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
    // CPU of each process over the measured window, read at its edges.
    const cpuAt = () => [...pids.map(cpuOf), machineCpu()];
    const at = (time: number) =>
      new Promise<number[]>((resolve) =>
        setTimeout(() => resolve(cpuAt()), Math.max(0, time - monotonicMs())),
      );
    const [cpuFrom, cpuTo] = await Promise.all([at(measureFrom), at(measureTo)]);
    const published = await race(publisher.next("done"));
    // Every measured sync should reach every viewer: the peers refuse none, and a sync ours
    // refused would show in the publisher's statuses and as missing frames.
    const expected = Number(published.measuredSent) * options.viewers;
    viewers.send({ type: "drain", expected, timeoutMs: 10_000 });
    const received = await race(viewers.next("report"));
    const peak = sampler.stop()[0] as number;
    const cpu = (i: number) => round((cpuTo?.[i] as number) - (cpuFrom?.[i] as number));
    const { type: _p, ...publisherReport } = published;
    const { type: _v, latencyMs, ...viewersReport } = received;
    return {
      deliveriesPerSecond: Number(received.windowReceived) / options.seconds,
      // Infinity (a frame still missing) crossed IPC as null.
      latencyMs: Object.fromEntries(
        Object.entries(latencyMs as Record<string, number | null>).map(([k, v]) => [
          k,
          v ?? Number.POSITIVE_INFINITY,
        ]),
      ) as unknown as Run["latencyMs"],
      delivered: expected === 0 ? 0 : Number(received.measuredReceived) / expected,
      serverRss: { connectedMiB: mib(connectedRss), peakMiB: mib(peak) },
      cpuSeconds: {
        server: cpu(0),
        publisher: cpu(1),
        viewers: cpu(2),
        others: round(cpu(3) - cpu(0) - cpu(1) - cpu(2)),
      },
      publisher: publisherReport,
      viewers: { ...viewersReport, connectMs: ready.connectMs },
    };
  } finally {
    await Promise.all(processes.map((p) => p.stop()));
  }
}
