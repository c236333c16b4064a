// share-fanout-max-rate: the highest publish rate each contender sustains with a p99 publish →
// viewer latency of at most 100 ms, on share-fanout's harness (one publisher, 1,000 viewers in one
// process, one 200-byte part per sync): syncline against the strong raw `ws` loop. Each probe is
// one short share-fanout run at a rate; a contender's search climbs a ladder of rates until a
// probe fails, then bisects between the last pass and the first failure to ~10%. A rate counts
// as failed only when a second probe at it fails too: at low rates the p99 of a short window is
// about its slowest sync or two, which one stall of another process on the shared machine can
// push over the limit; and a probe during which other work used the machine (read from
// /proc/stat) is thrown away and run again. The two searches advance in step, one probe of each
// in turn (who goes first rotating), so both meet the same machine load.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RateSearch } from "./lib/rate-search.js";
import { describe, type FanoutContender, type Run, runOne } from "./share-fanout.js";

/** Size of the search. */
export interface MaxRateOptions {
  readonly viewers: number;
  readonly partBytes: number;
  /** Each probe's warm-up at its rate, then its measured window, s. */
  readonly warmUpSeconds: number;
  readonly seconds: number;
  /** The latency bound a probe must meet, ms (its p99). */
  readonly p99LimitMs: number;
  /** Rates to climb, syncs/s. */
  readonly ladder: readonly number[];
  /** The bisection stops when the first failure is within this fraction above the last pass. */
  readonly resolution: number;
  /** Probes a rate gets before it counts as failed (a pass at any of them passes it). */
  readonly tries: number;
  /**
   * A probe during whose window the rest of the machine (other sessions' work) used more than
   * this many cores on average is run again after a pause, at most twice per probe and `reruns`
   * times in the whole search, which bounds its length.
   */
  readonly maxOtherCores: number;
  readonly reruns: number;
}

/** What a probe's report keeps of its run. */
interface ProbeReport {
  readonly rate: number;
  readonly passed: boolean;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly deliveriesPerSecond: number;
  readonly delivered: number;
  readonly cpuSeconds: Run["cpuSeconds"];
  /** Cores the rest of the machine used on average in the window (of the probe kept). */
  readonly otherCores: number;
  /** Runs at this rate thrown away because other work was using the machine. */
  readonly discarded: number;
}

const contenders: readonly FanoutContender[] = ["syncline", "rawWs"];
const rerunsPerProbe = 2;

/** Runs the benchmark. */
export async function shareFanoutMaxRate(options: MaxRateOptions) {
  const dir = mkdtempSync(join(tmpdir(), "syncline-bench-max-rate-"));
  const searches = new Map(
    contenders.map((kind) => [
      kind,
      new RateSearch(options.ladder, options.resolution, options.tries),
    ]),
  );
  const reports = new Map<FanoutContender, ProbeReport[]>(contenders.map((kind) => [kind, []]));
  const budget = { reruns: options.reruns };
  try {
    for (let step = 0; ; step++) {
      const order = step % 2 === 0 ? contenders : [...contenders].reverse();
      const due = order.flatMap((kind) => {
        const rate = searches.get(kind)?.next();
        return rate === undefined ? [] : [{ kind, rate }];
      });
      if (due.length === 0) break;
      for (const { kind, rate } of due) {
        const report = await probe(kind, rate, options, join(dir, `probe-${step}`), budget);
        searches.get(kind)?.record(rate, report.passed);
        reports.get(kind)?.push(report);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const result = (kind: FanoutContender) => {
    const search = searches.get(kind) as RateSearch;
    const probes = reports.get(kind) ?? [];
    return {
      /** The highest rate a probe passed (p99 within the limit). */
      maxRate: search.highestPassed,
      /** The lowest rate whose probes' p99 were all over it (null: every rung passed). */
      firstFailingRate: search.lowestFailed ?? null,
      /** Probes kept although other work used more than `maxOtherCores` (no reruns left). */
      probesUnderOtherWork: probes.filter((p) => p.otherCores > options.maxOtherCores).length,
      probes,
    };
  };
  const syncline = result("syncline");
  const rawWs = result("rawWs");
  return {
    name: "share-fanout-max-rate",
    ...options,
    syncline,
    rawWs,
    ratio: rawWs.maxRate === 0 ? null : Math.round((syncline.maxRate / rawWs.maxRate) * 100) / 100,
    target: `highest rate with p99 <= ${options.p99LimitMs} ms >= 0.9x the raw loop's`,
  };
}

/**
 * One short share-fanout run of `kind` at `rate`; passes when its p99 is within the limit. Run
 * again (in a fresh data directory) while other work on the machine was busy in its window and
 * `budget` has reruns left.
 */
async function probe(
  kind: FanoutContender,
  rate: number,
  options: MaxRateOptions,
  dataDir: string,
  budget: { reruns: number },
): Promise<ProbeReport> {
  const load = { ...options, rate, repetitions: 1 };
  let run: Run;
  let discarded = 0;
  for (;;) {
    run = await runOne(kind, load, `${dataDir}-${discarded}`);
    const otherCores = run.cpuSeconds.others / options.seconds;
    const busy =
      otherCores > options.maxOtherCores && budget.reruns > 0 && discarded < rerunsPerProbe;
    const verdict = busy ? "thrown away" : passesAt(run, options) ? "passed" : "failed";
    process.stderr.write(
      `share-fanout-max-rate: ${kind} at ${rate} syncs/s ${verdict}: ${describe(run, load)}, ` +
        `other work ${otherCores.toFixed(2)} cores\n`,
    );
    if (!busy) break;
    discarded++;
    budget.reruns--;
    await new Promise((resolve) => setTimeout(resolve, 5000));
  }
  const passed = passesAt(run, options);
  return {
    rate,
    passed,
    p50Ms: run.latencyMs.p50,
    p99Ms: run.latencyMs.p99,
    deliveriesPerSecond: Math.round(run.deliveriesPerSecond),
    delivered: Math.round(run.delivered * 10_000) / 10_000,
    cpuSeconds: run.cpuSeconds,
    otherCores: Math.round((run.cpuSeconds.others / options.seconds) * 100) / 100,
    discarded,
  };
}

/**
 * Whether `run`'s p99 is within the limit; a frame missing at the end of the drain counts as
 * Infinity in the p99, so a run that lost frames fails.
 */
function passesAt(run: Run, options: MaxRateOptions): boolean {
  return run.latencyMs.p99 <= options.p99LimitMs;
}
