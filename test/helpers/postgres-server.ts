// A throwaway Postgres cluster for a test file: `initdb` in a temp directory (as the `postgres`
// user when the tests run as root, since Postgres refuses to run as root), started with
// `pg_ctl` on a free loopback port, removed at the end. The binaries are the machine's
// (Debian's postgresql-15 puts them in /usr/lib/postgresql/15/bin). When they are missing, the
// tests that need them fail under CI=true and are skipped otherwise.

import { execFileSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { describe, it } from "vitest";
import { freePort } from "./free-port.js";

/** A running cluster. */
export interface TestPostgres {
  /** A superuser URL of the `postgres` database (tests create their own databases). */
  readonly url: string;
  readonly port: number;
  /** A fresh, empty database; its URL. */
  createDatabase(): Promise<string>;
  /** Stops the server (fast shutdown) and starts it again on the same port and data. */
  restart(): Promise<void>;
  stop(): Promise<void>;
  /** Starts it again after `stop()`. */
  start(): Promise<void>;
  /** Stops it and removes its files. */
  remove(): Promise<void>;
}

/** Where the Postgres server binaries are, or why there are none. */
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

/**
 * Why Postgres tests cannot run here, or undefined when they can. Under CI=true a missing
 * Postgres registers a failing test under `suite` (CI must install it); elsewhere the caller
 * skips its suite with `describe.skipIf(missing !== undefined)`.
 */
export function postgresMissing(suite: string): string | undefined {
  const { problem } = findPostgresBin();
  if (problem !== undefined && process.env.CI) {
    describe(suite, () => {
      it("has Postgres server binaries (required under CI=true)", () => {
        throw new Error(`${suite} under CI=true: ${problem}`);
      });
    });
  }
  return problem;
}

let databases = 0;

/** Initializes and starts a cluster. Throws when Postgres is missing (see findPostgresBin). */
export async function startTestPostgres(): Promise<TestPostgres> {
  const { bin, problem } = findPostgresBin();
  if (bin === undefined) throw new Error(problem);
  const dir = mkdtempSync(join(tmpdir(), "syncline-pg-"));
  const data = join(dir, "data");
  const asRoot = process.getuid?.() === 0;
  // Postgres refuses to run as root: the cluster belongs to the `postgres` user then.
  const run = (tool: string, args: string[]) =>
    execFileSync(
      asRoot ? "runuser" : join(bin, tool),
      asRoot ? ["-u", "postgres", "--", join(bin, tool), ...args] : args,
      { stdio: "pipe", cwd: dir },
    );
  if (asRoot) {
    chmodSync(dir, 0o755);
    const { uid, gid } = postgresUser();
    chownSync(dir, uid, gid);
  }
  run("initdb", ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"]);
  const port = await freePort();
  const options = [
    `-p ${port}`,
    "-c listen_addresses=127.0.0.1",
    `-c unix_socket_directories=${dir}`,
    // Durability of the test cluster itself is not under test (restarts are clean shutdowns).
    "-c fsync=off",
    "-c max_connections=200",
  ].join(" ");
  const start = async () => {
    run("pg_ctl", ["-D", data, "-o", options, "-l", join(dir, "log"), "-w", "-t", "30", "start"]);
  };
  const stop = async () => {
    if (existsSync(join(data, "postmaster.pid"))) {
      run("pg_ctl", ["-D", data, "-m", "fast", "-w", "-t", "30", "stop"]);
    }
  };
  await start();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  return {
    url,
    port,
    async createDatabase() {
      const name = `t${process.pid}_${++databases}`;
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    async restart() {
      await stop();
      await start();
    },
    stop,
    start,
    async remove() {
      await stop().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function postgresUser(): { uid: number; gid: number } {
  const uid = Number(execFileSync("id", ["-u", "postgres"]).toString().trim());
  const gid = Number(execFileSync("id", ["-g", "postgres"]).toString().trim());
  return { uid, gid };
}
