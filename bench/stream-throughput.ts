// stream-throughput: one payload from a sender, through the server, to a receiver — syncline's
// authenticated channel against a raw `ws` relay (bufferutil, no auth, no flow control of its
// own beyond the socket) in the same run. Reports MiB/s medians, their ratio, and each
// process's RSS growth.

import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RoleProcess, startRole } from "./lib/child.js";
import { rssOf, sampleRss } from "./lib/rss.js";
import { median, mib } from "./lib/stats.js";

/** One measured transfer. */
interface Run {
  readonly mibPerSecond: number;
  readonly rssGrowth: { server: number; sender: number; receiver: number };
}

const roles = new URL("./roles/", import.meta.url);
const role = (name: string) => new URL(`${name}.js`, roles).pathname;

/** Runs the benchmark; `bytes` per transfer, `repetitions` per contender. */
export async function streamThroughput(bytes: number, repetitions: number) {
  const dir = mkdtempSync(join(tmpdir(), "syncline-bench-"));
  try {
    const key = join(dir, "id_ed25519");
    execFileSync("ssh-keygen", ["-t", "ed25519", "-q", "-N", "", "-f", key]);
    const pub = execFileSync("ssh-keygen", ["-y", "-f", key]).toString();
    writeFileSync(join(dir, "authorized_keys"), pub);
    const ours: Run[] = [];
    const raw: Run[] = [];
    for (let i = 0; i < repetitions; i++) {
      // Alternate, so drift in the shared machine's load hits both alike.
      ours.push(await runSyncline(dir, key, bytes, i));
      raw.push(await runRaw(bytes));
    }
    const summary = (runs: Run[]) => ({
      mibPerSecond: Math.round(median(runs.map((r) => r.mibPerSecond))),
      runs: runs.map((r) => Math.round(r.mibPerSecond)),
      rssGrowthMiB: {
        server: mib(median(runs.map((r) => r.rssGrowth.server))),
        sender: mib(median(runs.map((r) => r.rssGrowth.sender))),
        receiver: mib(median(runs.map((r) => r.rssGrowth.receiver))),
      },
    });
    const syncline = summary(ours);
    const rawRelay = summary(raw);
    return {
      name: "stream-throughput",
      payloadMiB: mib(bytes),
      repetitions,
      syncline,
      rawRelay,
      ratio: Math.round((syncline.mibPerSecond / rawRelay.mibPerSecond) * 100) / 100,
      target: "ratio >= 0.7; RSS growth of each process <= 64 MiB",
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runSyncline(dir: string, key: string, bytes: number, i: number): Promise<Run> {
  const server = startRole(role("syncline-server"), [
    join(dir, `data-${i}`),
    join(dir, "authorized_keys"),
  ]);
  const url = String((await server.next("ready")).url);
  const receiver = startRole(role("syncline-client"), ["recv", url, key, String(bytes)]);
  await receiver.next("ready");
  const sender = startRole(role("syncline-client"), ["send", url, key, String(bytes)]);
  await sender.next("ready");
  return measure(server, sender, receiver, bytes);
}

async function runRaw(bytes: number): Promise<Run> {
  const server = startRole(role("raw-relay-server"));
  const url = String((await server.next("ready")).url);
  const receiver = startRole(role("raw-relay-client"), ["recv", url, String(bytes)]);
  await receiver.next("ready");
  const sender = startRole(role("raw-relay-client"), [
    "send",
    url,
    String(bytes),
    String(64 * 1024),
  ]);
  await sender.next("ready");
  return measure(server, sender, receiver, bytes);
}

async function measure(
  server: RoleProcess,
  sender: RoleProcess,
  receiver: RoleProcess,
  bytes: number,
): Promise<Run> {
  const processes = [server, sender, receiver];
  const pids = processes.map((p) => p.child.pid as number);
  const baseline = pids.map(rssOf);
  const sampler = sampleRss(pids);
  const started = Date.now();
  sender.send({ type: "go" });
  const done = await receiver.next("done");
  const peaks = sampler.stop();
  const seconds = (Number(done.at) - started) / 1000;
  await Promise.all(processes.map((p) => p.stop()));
  const growth = peaks.map((peak, i) => Math.max(0, peak - (baseline[i] as number)));
  return {
    mibPerSecond: bytes / 1024 / 1024 / seconds,
    rssGrowth: {
      server: growth[0] as number,
      sender: growth[1] as number,
      receiver: growth[2] as number,
    },
  };
}
