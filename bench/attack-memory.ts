// attack-memory: what a peer that stops reading costs a server while another peer floods the
// document's ephemeral relay. Against syncline's server and the reference
// `automerge-repo-sync-server` in the same run, each server in its own process, the flooding and
// the stalled peer in two others (bench/roles/ephemeral-peer.ts). The stalled peer answers with
// unsolicited pongs, so neither server's keepalive drops it; syncline's ephemeral size limit is
// raised to let the flood's frames through, so that what is measured is the relay's backpressure
// (its output budget, default 16 MiB per peer), not the size limit. Reports each server's RSS
// before, at its peak during the flood, and once the flood was handled.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RoleProcess, startRole } from "./lib/child.js";
import { rssOf, sampleRss } from "./lib/rss.js";
import { median, mib } from "./lib/stats.js";

/** Size of the attack. */
export interface AttackMemoryOptions {
  readonly messages: number;
  readonly messageBytes: number;
  readonly repetitions: number;
}

type ServerKind = "syncline" | "reference";

/** One run against one server, bytes. */
interface Run {
  readonly baseline: number;
  readonly peak: number;
  /** RSS 2 s after the flood was handled. */
  readonly after: number;
  readonly floodSeconds: number;
}

const role = (name: string) => new URL(`./roles/${name}.js`, import.meta.url).pathname;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const phaseTimeoutMs = 300_000;

async function runOnce(kind: ServerKind, dir: string, options: AttackMemoryOptions): Promise<Run> {
  const started: RoleProcess[] = [];
  const start = (name: string, args: string[], env?: NodeJS.ProcessEnv) => {
    const p = startRole(role(name), args, { env });
    started.push(p);
    return p;
  };
  try {
    const server =
      kind === "syncline"
        ? start("syncline-server", [dir], {
            ...process.env,
            SYNCLINE_AUTOMERGE_MAX_EPHEMERAL_BYTES: String(2 * options.messageBytes),
          })
        : start("automerge-reference-server", [dir]);
    const url = String((await server.next("ready", 30_000)).url);
    const pid = server.child.pid as number;
    const flooder = start("ephemeral-peer", ["flooder", url]);
    const { documentId } = await flooder.next("ready", 60_000);
    const stalled = start("ephemeral-peer", ["stalled", url, String(documentId)]);
    await stalled.next("ready", 60_000);
    await sleep(2000);
    const baseline = rssOf(pid);
    const sampler = sampleRss([pid]);
    flooder.send({ type: "go", messages: options.messages, bytes: options.messageBytes });
    const flooded = await flooder.next("flooded", phaseTimeoutMs);
    await sleep(2000);
    const after = rssOf(pid);
    const [peak] = sampler.stop();
    const run = { baseline, peak: peak as number, after, floodSeconds: Number(flooded.seconds) };
    process.stderr.write(`bench: ${kind}: ${JSON.stringify(brief(run))}\n`);
    return run;
  } finally {
    await Promise.all(started.map((p) => p.stop()));
  }
}

function brief(run: Run) {
  return {
    baselineMiB: mib(run.baseline),
    peakGrowthMiB: mib(run.peak - run.baseline),
    afterGrowthMiB: mib(run.after - run.baseline),
    floodSeconds: Math.round(run.floodSeconds * 100) / 100,
  };
}

function summary(runs: Run[]) {
  const m = (pick: (run: Run) => number) => mib(median(runs.map(pick)));
  return {
    runs: runs.length,
    baselineMiB: m((r) => r.baseline),
    peakGrowthMiB: m((r) => r.peak - r.baseline),
    afterGrowthMiB: m((r) => r.after - r.baseline),
    floodSeconds: Math.round(median(runs.map((r) => r.floodSeconds)) * 100) / 100,
    each: runs.map(brief),
  };
}

/** attack-memory: server RSS growth under the slow-reader relay flood, ours and the reference's. */
export async function attackMemory(options: AttackMemoryOptions) {
  const dir = mkdtempSync(join(tmpdir(), "syncline-bench-attack-"));
  const runs: Record<ServerKind, Run[]> = { syncline: [], reference: [] };
  const notes: string[] = [];
  try {
    for (let i = 0; i < options.repetitions; i++) {
      // Alternate who goes first, so drift in the shared machine's load hits both.
      const order: ServerKind[] =
        i % 2 === 0 ? ["syncline", "reference"] : ["reference", "syncline"];
      for (const kind of order) {
        const data = join(dir, `${kind}-${i}`);
        try {
          runs[kind].push(await runOnce(kind, data, options));
        } catch (error) {
          notes.push(`${kind}: run failed: ${(error as Error).message}`);
        } finally {
          rmSync(data, { recursive: true, force: true });
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const ours = summary(runs.syncline);
  const reference = summary(runs.reference);
  return {
    name: "attack-memory",
    messages: options.messages,
    messageMiB: mib(options.messageBytes),
    floodMiB: mib(options.messages * options.messageBytes),
    repetitions: options.repetitions,
    syncline: ours,
    reference,
    ratio: {
      peakGrowth: Math.round((reference.peakGrowthMiB / ours.peakGrowthMiB) * 100) / 100,
    },
    target:
      "syncline's growth stays flat (the output budget plus what receiving frames takes), whatever the flood's length; the reference grows with it",
    notes,
  };
}
