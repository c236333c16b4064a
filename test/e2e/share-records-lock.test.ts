// The share records file under concurrent CLI processes: changes made at once by separate
// processes all land (the file is locked per read-modify-write), a stale lock is broken, and a
// lock held too long fails with ERR_FILE_LOCKED naming the lock file and its holder. Runs the
// built CLI (and the built records module) as separate processes, as users do.

import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type CliResult,
  cliPath,
  createDeviceEnv,
  runCliProcess,
  startServe,
  stopServe,
} from "../helpers/cli.js";
import { createTempDir } from "../helpers/temp-dir.js";

let dir: { path: string; remove: () => Promise<void> };
let serve: Awaited<ReturnType<typeof startServe>>["child"];
let server: string;

beforeAll(async () => {
  dir = await createTempDir("syncline-records-lock-");
  ({ child: serve, base: server } = await startServe(join(dir.path, "data"), {
    env: createDeviceEnv(dir.path),
  }));
});

afterAll(async () => {
  if (serve) await stopServe(serve);
  await dir?.remove();
});

const recordsOf = (env: NodeJS.ProcessEnv) =>
  join(env.XDG_CONFIG_HOME as string, "syncline", "shares.json");

function readRecords(env: NodeJS.ProcessEnv): Array<{ sessionID: string; secret: string }> {
  return JSON.parse(readFileSync(recordsOf(env), "utf8")).shares;
}

function share(args: readonly string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  return runCliProcess(["share", ...args, "--server", server, "--json"], {
    env,
    timeoutMs: 40_000,
  });
}

/** The built records module, driven by a child `node` process (no CLI or server around it). */
const recordsModule = pathToFileURL(resolve(cliPath(), "..", "commands", "share-records.js")).href;

/**
 * A child that, from `startAt` on, adds `count` records named after `worker` and then removes the
 * even-numbered ones: each add and remove is a read-modify-write of the whole file.
 */
const workerScript = `
const { ShareRecordStore } = await import(${JSON.stringify(recordsModule)});
const [path, worker, count, startAt] = process.argv.slice(1);
const store = new ShareRecordStore(path);
while (Date.now() < Number(startAt)) await new Promise((r) => setTimeout(r, 1));
const server = "http://127.0.0.1:1";
for (let i = 0; i < Number(count); i++) {
  const sessionID = "ses_w" + worker + "_n" + String(i).padStart(4, "0") + "_abcdefgh";
  await store.add({ sessionID, id: sessionID.slice(-8), secret: "s-" + worker + "-" + i, server,
    url: server + "/s/x", createdAt: new Date().toISOString() });
}
for (let i = 0; i < Number(count); i += 2) {
  const sessionID = "ses_w" + worker + "_n" + String(i).padStart(4, "0") + "_abcdefgh";
  await store.remove(sessionID, server);
}
`;

function runWorker(path: string, worker: number, count: number, startAt: number) {
  return new Promise<{ code: number | null; stderr: string }>((resolvePromise) => {
    const child = spawn(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        workerScript,
        path,
        String(worker),
        String(count),
        String(startAt),
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once("close", (code) => resolvePromise({ code, stderr }));
  });
}

describe("share records under concurrent processes", () => {
  it("keeps every add and remove of ten processes changing the file at once", async () => {
    const env = createDeviceEnv(dir.path);
    const workers = 10;
    const count = 20;
    const startAt = Date.now() + 1500; // every child is up and waiting by then
    const results = await Promise.all(
      Array.from({ length: workers }, (_, worker) =>
        runWorker(recordsOf(env), worker, count, startAt),
      ),
    );
    expect(results.map((r) => r.stderr).filter(Boolean)).toEqual([]);
    expect(results.map((r) => r.code)).toEqual(Array(workers).fill(0));
    const expected = Array.from({ length: workers }, (_, worker) =>
      Array.from({ length: count / 2 }, (_, k) => `s-${worker}-${2 * k + 1}`),
    ).flat();
    expect(
      readRecords(env)
        .map((r) => r.secret)
        .sort(),
    ).toEqual(expected.sort());
    expect(existsSync(`${recordsOf(env)}.lock`)).toBe(false);
  }, 60_000);

  it("keeps the secret of each of ten `share create` run at once, then deletes them all", async () => {
    const env = createDeviceEnv(dir.path);
    const sessions = Array.from(
      { length: 10 },
      (_, i) => `ses_lock${i}_concurrentCreate${String(i).padStart(2, "0")}`,
    );
    const created = await Promise.all(sessions.map((s) => share(["create", s], env)));
    expect(created.map((r) => r.code)).toEqual(Array(10).fill(0));
    const secrets = created.map((r) => JSON.parse(r.stdout.trim()).secret);
    expect(
      readRecords(env)
        .map((r) => r.secret)
        .sort(),
    ).toEqual([...secrets].sort());
    // Every secret kept is one the server accepts: ten deletes at once, each removing its record.
    const deleted = await Promise.all(sessions.map((s) => share(["delete", s], env)));
    expect(deleted.map((r) => r.code)).toEqual(Array(10).fill(0));
    expect(readRecords(env)).toEqual([]);
  }, 60_000);

  it("breaks a lock left by a process that is gone", async () => {
    const env = createDeviceEnv(dir.path);
    const gone = spawn(process.execPath, ["-e", ""]);
    const pid = gone.pid as number;
    await new Promise((r) => gone.once("close", r));
    const lock = `${recordsOf(env)}.lock`;
    writeFileSync(
      lock,
      JSON.stringify({
        pid,
        hostname: (await import("node:os")).hostname(),
        createdAt: Date.now(),
      }),
    );
    const result = await share(["create", "ses_lockStale_staleLk1"], env);
    expect(result.code).toBe(0);
    expect(readRecords(env).map((r) => r.sessionID)).toEqual(["ses_lockStale_staleLk1"]);
    expect(existsSync(lock)).toBe(false);
  });

  it("a stale lock in a folder the user cannot write is ERR_LOCAL_FILE at once: permission denied, naming the folder", async () => {
    // Run as nobody when we are root (root writes anywhere); the folders let nobody read them.
    const open = await createTempDir("syncline-records-ro-");
    try {
      chmodSync(open.path, 0o755);
      const configDir = join(open.path, "syncline");
      mkdirSync(configDir);
      const lock = join(configDir, "shares.json.lock");
      // Left by a process long gone, on this host: stale, so the command tries to break it.
      const stale = { pid: 2147483000, hostname: hostname(), createdAt: Date.now() - 3_600_000 };
      writeFileSync(lock, JSON.stringify(stale));
      chmodSync(configDir, 0o555);
      const started = Date.now();
      const result = await runCliProcess(
        ["share", "create", "ses_lockRo_readOnl1", "--server", server, "--json"],
        { env: { ...createDeviceEnv(dir.path), XDG_CONFIG_HOME: open.path }, unprivileged: true },
      );
      expect(Date.now() - started).toBeLessThan(5_000); // no wait for a holder that is not there
      expect(result.code).toBe(2);
      const { error } = JSON.parse(result.stdout.trim());
      expect(error.code).toBe("ERR_LOCAL_FILE");
      expect(error.message).toContain(`permission denied in folder ${configDir}`);
      expect(error.message).not.toMatch(/held by|keeps being locked/);
      expect(error.message.split("\n")).toHaveLength(1);
      expect(readFileSync(lock, "utf8")).toBe(JSON.stringify(stale));
    } finally {
      await open.remove();
    }
  });

  it("fails with ERR_FILE_LOCKED (exit 2) naming the lock file and its holder when held too long", async () => {
    const env = createDeviceEnv(dir.path);
    const lock = `${recordsOf(env)}.lock`;
    // Held by a live process (this one) since just now: neither dead nor old, so never broken.
    const holder = JSON.stringify({
      pid: process.pid,
      hostname: (await import("node:os")).hostname(),
      createdAt: Date.now(),
      token: "held-by-the-test",
    });
    writeFileSync(lock, holder);
    const started = Date.now();
    const result = await share(["create", "ses_lockHeld_heldLck1"], env);
    expect(Date.now() - started).toBeGreaterThanOrEqual(10_000);
    expect(result.code).toBe(2);
    const { error } = JSON.parse(result.stdout.trim());
    expect(error.code).toBe("ERR_FILE_LOCKED");
    expect(error.message).toContain(lock);
    expect(error.message).toContain(`process ${process.pid}`);
    expect(error.message).toMatch(/held for \d+(\.\d)? s/);
    // The share was created on the server before the lock was needed: its secret is not lost.
    expect(error.message).toMatch(/keep its secret, shown only this once: \S{20,}/);
    // The holder's lock is left alone, and nothing was written.
    expect(readFileSync(lock, "utf8")).toBe(holder);
    expect(existsSync(recordsOf(env))).toBe(false);
  }, 40_000);
});
