// automerge-many: the scale workload. Real `Repo` clients, one process per 2,000 documents,
// create N documents × 1 change offline and go online together; the clock runs until they see
// the server acknowledge every document's heads (their own `getSyncInfo`). Then as many fresh
// clients find all N at once; the clock runs until every find resolved or was rejected, and the
// found count is reported beside it.
// Syncline's server against the reference `automerge-repo-sync-server`, each in its own
// process, alternating, with the servers' CPU seconds and RSS for both phases.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ServerKind } from "./automerge-sync.js";
import { type RoleProcess, startRole } from "./lib/child.js";
import { cpuOf } from "./lib/cpu.js";
import { rssOf } from "./lib/rss.js";
import { median, mib } from "./lib/stats.js";

/** Size of the workload. */
export interface AutomergeManyOptions {
  readonly documents: number;
  /** Documents per client process (default 2,000; see roles/automerge-ack-client.ts). */
  readonly perClient?: number;
  readonly repetitions: number;
  readonly servers?: readonly ServerKind[];
}

/** One run against one server. */
interface Run {
  readonly ackSeconds: number;
  readonly findSeconds: number;
  readonly found: number;
  readonly failed: number;
  readonly cpuSeconds: { push: number; find: number };
  readonly rssMiB: { idle: number; afterPush: number; afterFind: number };
  /** Acknowledged documents about once a second during the push (to see stalls). */
  readonly ackProgress: readonly { at: number; acknowledged: number }[];
}

const roles = new URL("./roles/", import.meta.url);
const role = (name: string) => new URL(`${name}.js`, roles).pathname;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const phaseTimeoutMs = 900_000;
const defaultPerClient = 2000;

/** Runs the workload; medians per server, and the runs themselves (stalls show as outliers). */
export async function automergeMany(options: AutomergeManyOptions) {
  const dir = mkdtempSync(join(tmpdir(), "syncline-bench-many-"));
  const runs: Record<ServerKind, Run[]> = { syncline: [], reference: [] };
  /** Runs in which the server process died (left out of the medians). */
  const crashes: Record<ServerKind, string[]> = { syncline: [], reference: [] };
  try {
    for (let i = 0; i < options.repetitions; i++) {
      const order: ServerKind[] =
        i % 2 === 0 ? ["syncline", "reference"] : ["reference", "syncline"];
      for (const kind of order.filter((k) => options.servers?.includes(k) ?? true)) {
        const perClient = options.perClient ?? defaultPerClient;
        const run = await runOnce(
          kind,
          join(dir, `${kind}-${i}`),
          options.documents,
          perClient,
        ).catch((error: Error) => {
          if (!(error instanceof ServerDied)) throw error;
          crashes[kind].push(`run ${i + 1}: ${error.message}`);
          process.stderr.write(`automerge-many: ${kind} run ${i + 1}: ${error.message}\n`);
          return undefined;
        });
        if (run === undefined) continue;
        process.stderr.write(
          `automerge-many: ${kind} run ${i + 1}: ack ${run.ackSeconds} s, find ${run.findSeconds} s ` +
            `(${run.found} found, ${run.failed} failed), server CPU ${JSON.stringify(run.cpuSeconds)}, ` +
            `RSS MiB ${JSON.stringify(run.rssMiB)}\n`,
        );
        runs[kind].push(run);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const summary = (list: Run[]) => ({
    ackSeconds: median(list.map((r) => r.ackSeconds)),
    findSeconds: median(list.map((r) => r.findSeconds)),
    found: median(list.map((r) => r.found)),
    failed: Math.max(0, ...list.map((r) => r.failed)),
    serverCpuSeconds: median(list.map((r) => r.cpuSeconds.push + r.cpuSeconds.find)),
    /** Slowest over fastest acknowledgement among the runs: a stall shows as a large spread. */
    ackSpread: list.length > 0 ? max(list, "ackSeconds") / min(list, "ackSeconds") : Number.NaN,
    runs: list,
  });
  const withCrashes = (kind: ServerKind) => ({ ...summary(runs[kind]), crashes: crashes[kind] });
  return {
    name: "automerge-many",
    ...options,
    clients: Math.ceil(options.documents / (options.perClient ?? defaultPerClient)),
    syncline: withCrashes("syncline"),
    reference: withCrashes("reference"),
  };
}

async function runOnce(
  kind: ServerKind,
  dataDir: string,
  documents: number,
  perClient: number,
): Promise<Run> {
  const started: RoleProcess[] = [];
  const start = (name: string, args: string[], env?: NodeJS.ProcessEnv) => {
    const p = startRole(role(name), args, { env });
    started.push(p);
    return p;
  };
  const shares = Array.from({ length: Math.ceil(documents / perClient) }, (_, i) =>
    Math.min(perClient, documents - i * perClient),
  );
  try {
    // Every client of the benchmark comes from 127.0.0.1: past 20,000 documents that one address
    // meets our per-address creation limit (a guard against abuse, closing with 4430), so the
    // limit is raised to the documents made (twice, for margin).
    const creationBurst = String(Math.max(20_000, documents * 2));
    const server =
      kind === "syncline"
        ? start("syncline-server", [dataDir], {
            ...process.env,
            SYNCLINE_RATE_DOCUMENT_CREATE_BURST: creationBurst,
          })
        : start("automerge-reference-server", [dataDir]);
    const url = String((await server.next("ready", 30_000)).url);
    const pid = server.child.pid as number;
    // Every wait below ends at once if the server dies (both servers have, once each, at
    // 10,000 documents); otherwise the clients would wait out the phase timeout for nothing.
    const died = server.exited.catch((error: Error) => {
      throw new ServerDied(error.message);
    });
    died.catch(() => {}); // the server's stop at the end is not a death to report
    const phase = <T>(waits: Promise<T>[]) => Promise.race([Promise.all(waits), died]);
    await sleep(1000);
    const idle = rssOf(pid);
    const pushers = shares.map((n) => start("automerge-ack-client", ["push", url, String(n), "1"]));
    await Promise.all(pushers.map((p) => p.next("ready", 30_000)));
    for (const pusher of pushers) pusher.send({ type: "go" });
    await phase(pushers.map((p) => p.next("created", phaseTimeoutMs)));
    const cpuBefore = cpuOf(pid);
    const onlineAt = Date.now();
    for (const pusher of pushers) pusher.send({ type: "online" });
    const acks = await phase(pushers.map((p) => p.next("acknowledged", phaseTimeoutMs)));
    const cpuPushed = cpuOf(pid);
    const afterPush = rssOf(pid);
    await Promise.all(pushers.map((p) => p.stop()));
    const ids = acks.map((ack) => ack.ids as string[]);
    const finders = ids.map(() => start("automerge-ack-client", ["find", url]));
    await Promise.all(finders.map((f) => f.next("ready", 30_000)));
    const cpuFindStart = cpuOf(pid);
    const findAt = Date.now();
    for (const [i, finder] of finders.entries()) finder.send({ type: "find", ids: ids[i] });
    const founds = await phase(finders.map((f) => f.next("found", phaseTimeoutMs)));
    const cpuFound = cpuOf(pid);
    const afterFind = rssOf(pid);
    const sum = (list: readonly { [key: string]: unknown }[], key: string) =>
      list.reduce((total, item) => total + Number(item[key]), 0);
    return {
      ackSeconds: (Math.max(...acks.map((ack) => Number(ack.at))) - onlineAt) / 1000,
      findSeconds: (Math.max(...founds.map((found) => Number(found.at))) - findAt) / 1000,
      found: sum(founds, "found"),
      failed: sum(founds, "failed"),
      cpuSeconds: {
        push: round(cpuPushed - cpuBefore),
        find: round(cpuFound - cpuFindStart),
      },
      rssMiB: { idle: mib(idle), afterPush: mib(afterPush), afterFind: mib(afterFind) },
      // The first client's progress (the others' are alike).
      ackProgress: acks[0]?.progress as Run["ackProgress"],
    };
  } finally {
    await Promise.all(started.map((p) => p.stop()));
  }
}

/** The server process exited during a run. */
class ServerDied extends Error {}

const round = (x: number) => Math.round(x * 100) / 100;
const max = (list: Run[], key: "ackSeconds") => Math.max(...list.map((r) => r[key]));
const min = (list: Run[], key: "ackSeconds") => Math.min(...list.map((r) => r[key]));
