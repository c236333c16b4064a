// stream-throughput-wss: stream-throughput over TLS. One payload from a sender, through the
// server, to a receiver over wss:// — syncline's server with its TLS listener (a throwaway
// self-signed certificate) and the library path trusting that certificate, against the raw `ws`
// relay served by node:https whose two ends hash every byte with SHA-256 (the floor any
// end-to-end checked transfer over TLS meets on this machine), in the same run, alternating.
// Reports MiB/s medians, their ratio, and each process's CPU seconds and RSS growth.

import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { median, mib } from "./lib/stats.js";
import { type Run, runRaw, runSyncline, type StreamTls } from "./stream-throughput.js";

/** Runs the benchmark; `bytes` per transfer, `repetitions` per contender. */
export async function streamThroughputWss(bytes: number, repetitions: number) {
  const dir = mkdtempSync(join(tmpdir(), "syncline-bench-wss-"));
  try {
    const key = join(dir, "id_ed25519");
    execFileSync("ssh-keygen", ["-t", "ed25519", "-q", "-N", "", "-f", key]);
    writeFileSync(join(dir, "authorized_keys"), execFileSync("ssh-keygen", ["-y", "-f", key]));
    const tls = selfSignedCertificate(dir);
    const ours: Run[] = [];
    const floor: Run[] = [];
    for (let i = 0; i < repetitions; i++) {
      // Alternate, rotating who goes first, so drift in the shared machine's load hits both alike.
      const pair = [
        async () => ours.push(await runSyncline(dir, key, bytes, i, undefined, tls)),
        async () => floor.push(await runRaw(bytes, true, tls)),
      ];
      for (const run of i % 2 === 0 ? pair : pair.reverse()) await run();
    }
    const syncline = summary(ours);
    const rawTlsRelaySha256 = summary(floor);
    return {
      name: "stream-throughput-wss",
      payloadMiB: mib(bytes),
      repetitions,
      tls: "self-signed P-256 certificate; Node's default TLS settings on both servers",
      syncline,
      rawTlsRelaySha256,
      /** Syncline against the raw TLS relay that hashes as it must. */
      ratioToSha256Floor:
        Math.round((syncline.mibPerSecond / rawTlsRelaySha256.mibPerSecond) * 100) / 100,
      target: "reported beside the raw TLS relay with SHA-256 at both ends; no number set",
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function summary(runs: readonly Run[]) {
  const middle = (pick: (run: Run) => number) => median(runs.map(pick));
  const seconds = (value: number) => Math.round(value * 100) / 100;
  return {
    mibPerSecond: Math.round(middle((r) => r.mibPerSecond)),
    runs: runs.map((r) => Math.round(r.mibPerSecond)),
    /** CPU seconds of each process over the measured transfer (`/proc`, 10 ms ticks). */
    cpuSeconds: {
      server: seconds(middle((r) => r.cpuSeconds.server)),
      sender: seconds(middle((r) => r.cpuSeconds.sender)),
      receiver: seconds(middle((r) => r.cpuSeconds.receiver)),
    },
    rssGrowthMiB: {
      server: mib(middle((r) => r.rssGrowth.server)),
      sender: mib(middle((r) => r.rssGrowth.sender)),
      receiver: mib(middle((r) => r.rssGrowth.receiver)),
    },
  };
}

/**
 * A throwaway self-signed P-256 certificate for 127.0.0.1 (where both servers listen) and
 * localhost, valid one day, in `dir`.
 */
function selfSignedCertificate(dir: string): StreamTls {
  const tls = { cert: join(dir, "cert.pem"), key: join(dir, "key.pem") };
  // biome-ignore format: the openssl command line reads best as written
  execFileSync("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
    "-days", "1", "-subj", "/CN=localhost",
    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
    "-keyout", tls.key, "-out", tls.cert,
  ], { stdio: "ignore" });
  return tls;
}
