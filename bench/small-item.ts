// small-item: the clipboard case. 1 KiB items, one after another, from a sender through the
// server to a receiver (both ends in one client process, so one clock times each item until the
// receiver holds it): syncline's channel (authenticated, SHA-256 checked, acknowledged) against
// the raw `ws` relay (one message per item), in the same run, alternating. Reports p50 and p99.

import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startRole } from "./lib/child.js";
import { median, quantile } from "./lib/stats.js";

const role = (name: string) => new URL(`./roles/${name}.js`, import.meta.url).pathname;

/** Runs `count` items of `bytes` per repetition and contender. */
export async function smallItem(count: number, bytes: number, repetitions: number) {
  const dir = mkdtempSync(join(tmpdir(), "syncline-bench-small-"));
  try {
    const key = join(dir, "id_ed25519");
    execFileSync("ssh-keygen", ["-t", "ed25519", "-q", "-N", "", "-f", key]);
    writeFileSync(join(dir, "authorized_keys"), execFileSync("ssh-keygen", ["-y", "-f", key]));
    const ours: Latencies[] = [];
    const raw: Latencies[] = [];
    for (let i = 0; i < repetitions; i++) {
      ours.push(
        await runOne(
          "syncline",
          count,
          bytes,
          [join(dir, `data-${i}`), join(dir, "authorized_keys")],
          key,
        ),
      );
      raw.push(await runOne("raw", count, bytes, [], key));
    }
    const summary = (runs: Latencies[]) => ({
      p50Ms: round(median(runs.map((r) => r.p50))),
      p99Ms: round(median(runs.map((r) => r.p99))),
      runs,
    });
    const syncline = summary(ours);
    const rawRelay = summary(raw);
    return {
      name: "small-item",
      items: count,
      itemBytes: bytes,
      repetitions,
      syncline,
      rawRelay,
      /** The raw relay's p99 over ours: >= 0.67 means ours is at most 1.5x. */
      rawP99OverOurs: round(rawRelay.p99Ms / syncline.p99Ms),
      rawP50OverOurs: round(rawRelay.p50Ms / syncline.p50Ms),
      target: "p50 and p99 <= 1.5x the raw relay's",
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Latencies {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

async function runOne(
  kind: "syncline" | "raw",
  count: number,
  bytes: number,
  serverArgs: string[],
  key: string,
): Promise<Latencies> {
  const server = startRole(
    role(kind === "raw" ? "raw-relay-server" : "syncline-server"),
    serverArgs,
  );
  try {
    const url = String((await server.next("ready")).url);
    const client = startRole(
      role("small-item-client"),
      kind === "raw" ? ["raw", url] : ["syncline", url, key],
    );
    try {
      await client.next("ready");
      // A warm-up round (JIT, buffers), then the measured one.
      for (const measured of [false, true]) {
        client.send({ type: "go", count, bytes });
        const done = await Promise.race([client.next("done"), client.exited, server.exited]);
        if (!measured) continue;
        const latencies = done.latencies as number[];
        const result = {
          p50: round(quantile(latencies, 0.5)),
          p99: round(quantile(latencies, 0.99)),
          max: round(Math.max(...latencies)),
        };
        process.stderr.write(`small-item: ${kind} ${JSON.stringify(result)}\n`);
        return result;
      }
      throw new Error("unreachable");
    } finally {
      await client.stop();
    }
  } finally {
    await server.stop();
  }
}

const round = (x: number) => Math.round(x * 100) / 100;
