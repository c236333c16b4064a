// stream-throughput: one payload from a sender, through the server, to a receiver — syncline's
// authenticated channel against a raw `ws` relay (bufferutil, no auth, no flow control of its
// own beyond the socket) in the same run. Reports MiB/s medians, their ratio, and each
// process's RSS growth. A third contender, the same raw relay whose two ends also hash every
// byte with SHA-256 (as an end-to-end checked transfer must), shows how much of the gap the
// hashing alone accounts for on this machine.

import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RoleProcess, startRole } from "./lib/child.js";
import { cpuOf } from "./lib/cpu.js";
import { rssOf, sampleRss } from "./lib/rss.js";
import { median, mib } from "./lib/stats.js";

/** One measured transfer. */
export interface Run {
  readonly mibPerSecond: number;
  readonly rssGrowth: { server: number; sender: number; receiver: number };
  /** User + system CPU seconds of each process during the measured transfer. */
  readonly cpuSeconds: { server: number; sender: number; receiver: number };
}

/**
 * TLS for the wss:// variant (stream-throughput-wss): the server's certificate and key files; the
 * certificate is self-signed, and the clients trust it as their CA.
 */
export interface StreamTls {
  readonly cert: string;
  readonly key: string;
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
    const rawHashed: Run[] = [];
    for (let i = 0; i < repetitions; i++) {
      // Alternate, so drift in the shared machine's load hits all alike.
      ours.push(await runSyncline(dir, key, bytes, i));
      raw.push(await runRaw(bytes, false));
      rawHashed.push(await runRaw(bytes, true));
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
    const rawRelaySha256 = summary(rawHashed);
    const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
    return {
      name: "stream-throughput",
      payloadMiB: mib(bytes),
      repetitions,
      syncline,
      rawRelay,
      rawRelaySha256,
      ratio: ratio(syncline.mibPerSecond, rawRelay.mibPerSecond),
      /** What the two SHA-256 passes alone leave of the raw relay's speed. */
      sha256FloorRatio: ratio(rawRelaySha256.mibPerSecond, rawRelay.mibPerSecond),
      /** Syncline against the raw relay that hashes as it must. */
      ratioToSha256Floor: ratio(syncline.mibPerSecond, rawRelaySha256.mibPerSecond),
      target: "ratioToSha256Floor >= 0.9; RSS growth of each process <= 64 MiB",
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * One transfer of `bytes` through the library path (fresh processes, warmed up), MiB/s. With
 * `files`, the sender reads `files.input` and the receiver writes into a new file in
 * `files.outputDir`, as the CLI does; without, both ends work in memory.
 */
export async function librarySpeed(
  dir: string,
  key: string,
  bytes: number,
  i: number,
  files?: { input: string; outputDir: string },
) {
  return (await runSyncline(dir, key, bytes, i, files)).mibPerSecond;
}

/**
 * One transfer through syncline's server and the library path (see librarySpeed); with `tls`,
 * the server serves wss:// (set through its environment, as `syncline serve` reads it) and the
 * clients trust its certificate.
 */
export async function runSyncline(
  dir: string,
  key: string,
  bytes: number,
  i: number,
  files?: { input: string; outputDir: string },
  tls?: StreamTls,
): Promise<Run> {
  const env = tls
    ? { ...process.env, SYNCLINE_TLS_CERT: tls.cert, SYNCLINE_TLS_KEY: tls.key }
    : undefined;
  const server = startRole(
    role("syncline-server"),
    [join(dir, `data-${i}`), join(dir, "authorized_keys")],
    { env },
  );
  const url = String((await server.next("ready")).url);
  if (tls && !url.startsWith("wss://")) throw new Error(`stream-throughput: ${url} is not TLS`);
  const trust = tls ? ["--ca", tls.cert] : [];
  const receiver = startRole(role("syncline-client"), [
    "recv",
    url,
    key,
    ...(files ? [files.outputDir] : []),
    ...trust,
  ]);
  await receiver.next("ready");
  const sender = startRole(role("syncline-client"), [
    "send",
    url,
    key,
    ...(files ? [files.input] : []),
    ...trust,
  ]);
  await sender.next("ready");
  return measure(server, sender, receiver, bytes);
}

/**
 * The raw relay; `sha256`: its sender and receiver also hash every byte; `tls`: over wss://, the
 * clients trusting the certificate.
 */
export async function runRaw(bytes: number, sha256: boolean, tls?: StreamTls): Promise<Run> {
  const hashing = sha256 ? ["--sha256"] : [];
  const server = startRole(role("raw-relay-server"), tls ? ["--tls", tls.cert, tls.key] : []);
  const url = String((await server.next("ready")).url);
  const options = [...hashing, ...(tls ? ["--ca", tls.cert] : [])];
  const receiver = startRole(role("raw-relay-client"), ["recv", url, ...options]);
  await receiver.next("ready");
  const sender = startRole(role("raw-relay-client"), ["send", url, String(64 * 1024), ...options]);
  await sender.next("ready");
  return measure(server, sender, receiver, bytes);
}

/**
 * A warm-up payload through the same processes before the measured one (bigger than the server's
 * 64 MiB retain limit, so it is relayed like the measured one). The servers are long-running;
 * without it a cold 256 MiB run also measures V8 compiling each side's hot path (16% of our
 * server's CPU went to the optimizing compiler in a cold run). Both contenders get the same.
 */
const warmUpBytes = 80 * 1024 * 1024;

/** Sends `bytes` through, resolving when the receiver has them all; fails if any role exits. */
async function transfer(processes: RoleProcess[], bytes: number): Promise<number> {
  const [, sender, receiver] = processes as [RoleProcess, RoleProcess, RoleProcess];
  receiver.send({ type: "expect", bytes });
  const started = Date.now();
  sender.send({ type: "go", bytes });
  const done = await Promise.race([receiver.next("done"), ...processes.map((p) => p.exited)]);
  if (Number(done.bytes) !== bytes) {
    throw new Error(`stream-throughput: receiver got ${done.bytes} bytes of ${bytes}`);
  }
  return (Number(done.at) - started) / 1000;
}

async function measure(
  server: RoleProcess,
  sender: RoleProcess,
  receiver: RoleProcess,
  bytes: number,
): Promise<Run> {
  const processes = [server, sender, receiver];
  try {
    const pids = processes.map((p) => p.child.pid as number);
    // RSS growth counts from before the warm-up, so pools and caches it fills count too.
    const baseline = pids.map(rssOf);
    const sampler = sampleRss(pids);
    await transfer(processes, warmUpBytes);
    const cpuBefore = pids.map(cpuOf);
    const seconds = await transfer(processes, bytes);
    const cpu = pids.map((pid, i) => cpuOf(pid) - (cpuBefore[i] as number));
    const peaks = sampler.stop();
    const growth = peaks.map((peak, i) => Math.max(0, peak - (baseline[i] as number)));
    return {
      mibPerSecond: bytes / 1024 / 1024 / seconds,
      rssGrowth: {
        server: growth[0] as number,
        sender: growth[1] as number,
        receiver: growth[2] as number,
      },
      cpuSeconds: {
        server: cpu[0] as number,
        sender: cpu[1] as number,
        receiver: cpu[2] as number,
      },
    };
  } finally {
    await Promise.all(processes.map((p) => p.stop()));
  }
}
