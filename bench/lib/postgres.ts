// A throwaway Postgres cluster for a benchmark: `initdb` in a temp directory (as the `postgres`
// user when we run as root, since Postgres refuses to run as root), started with `pg_ctl` on a
// free loopback port, removed at the end; a fresh database per run, so no run reads another's
// data. Unlike the tests' cluster (test/helpers/postgres-server.ts) fsync stays on: the store is
// what is measured, and an acknowledged write must be on disk with Postgres as with LMDB.

import { execFileSync } from "node:child_process";
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { freePort } from "./free-port.js";

/** A running cluster. */
export interface BenchPostgres {
  readonly port: number;
  /** A fresh, empty database; its URL (superuser, trust authentication on loopback). */
  createDatabase(): Promise<string>;
  /**
   * CPU seconds the whole cluster has used so far: the postmaster, every live backend and
   * background worker, and the backends that already exited (their time is charged to the
   * postmaster once reaped), so a difference of two readings is the cluster's CPU between them.
   */
  cpuSeconds(): number;
  /** Stops it (fast shutdown) and removes its files. */
  remove(): Promise<void>;
}

/** Where the Postgres server binaries are (Debian's postgresql-NN), or why there are none. */
export function findPostgresBin(): { bin?: string; problem?: string } {
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((name) => existsSync(join(root, name, "bin", "initdb")))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const version = versions[0];
  if (version === undefined) {
    return { problem: `no Postgres server binaries under ${root} (Debian package postgresql-15)` };
  }
  return { bin: join(root, version, "bin") };
}

let databases = 0;

/** Initializes and starts a cluster; throws when Postgres is missing. */
export async function startPostgres(): Promise<BenchPostgres> {
  const { bin, problem } = findPostgresBin();
  if (bin === undefined) throw new Error(problem);
  const dir = mkdtempSync(join(tmpdir(), "syncline-bench-pg-"));
  const data = join(dir, "data");
  const asRoot = process.getuid?.() === 0;
  const run = (tool: string, args: string[]) =>
    execFileSync(
      asRoot ? "runuser" : join(bin, tool),
      asRoot ? ["-u", "postgres", "--", join(bin, tool), ...args] : args,
      { stdio: "pipe", cwd: dir },
    );
  if (asRoot) {
    chmodSync(dir, 0o755);
    const uid = Number(execFileSync("id", ["-u", "postgres"]).toString().trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"]).toString().trim());
    chownSync(dir, uid, gid);
  }
  // --no-sync: initdb's own flush at the end is not under test; the server's settings are.
  run("initdb", ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"]);
  const port = await freePort();
  const options = [
    `-p ${port}`,
    "-c listen_addresses=127.0.0.1",
    `-c unix_socket_directories=${dir}`,
    // Two nodes' pools (10 each) and the benchmark's own connections, with room.
    "-c max_connections=100",
  ].join(" ");
  run("pg_ctl", ["-D", data, "-o", options, "-l", join(dir, "log"), "-w", "-t", "30", "start"]);
  const postmaster = Number(readFileSync(join(data, "postmaster.pid"), "utf8").split("\n")[0]);
  const admin = `postgres://postgres@127.0.0.1:${port}/postgres`;
  return {
    port,
    async createDatabase() {
      const name = `bench${process.pid}_${++databases}`;
      const client = new pg.Client({ connectionString: admin });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    cpuSeconds: () => clusterCpu(postmaster),
    async remove() {
      try {
        if (existsSync(join(data, "postmaster.pid"))) {
          run("pg_ctl", ["-D", data, "-m", "fast", "-w", "-t", "30", "stop"]);
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on Linux). */
const ticksPerSecond = 100;

/** The fields of /proc/<pid>/stat after the command name, or undefined once it is gone. */
function statFields(pid: number | string): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined;
  }
}

/** utime + stime + cutime + cstime: a process's own CPU and its reaped children's, in ticks. */
function withChildren(fields: readonly string[]): number {
  return [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i] ?? 0), 0);
}

function clusterCpu(postmaster: number): number {
  const own = statFields(postmaster);
  if (own === undefined) return 0;
  let ticks = withChildren(own);
  // Every process the postmaster forked is its direct child (backends, checkpointer, walwriter,
  // autovacuum): found by their parent pid.
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const fields = statFields(name);
    if (fields !== undefined && Number(fields[1]) === postmaster) ticks += withChildren(fields);
  }
  return ticks / ticksPerSecond;
}
