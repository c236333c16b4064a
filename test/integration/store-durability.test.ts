// An acknowledged write survives kill -9: a child process writes to the BUILT LMDB store and is
// SIGKILLed right after an acknowledgement; reopening the store shows every acknowledged batch,
// and no batch half-applied. (Power loss, which only "flush" covers, cannot be simulated here.)

import { spawn } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { type LmdbDurability, openLmdbStore } from "../../src/storage/lmdb-store.js";
import type { Store } from "../../src/storage/store.js";
import { createTempDir } from "../helpers/temp-dir.js";

const root = resolve(import.meta.dirname, "../..");
const fixture = resolve(root, "test/fixtures/store-writer.mjs");

/** Fails clearly when dist/ is missing or older than the storage sources the child runs. */
function assertBuilt(): void {
  const srcDir = resolve(root, "src/storage");
  for (const name of readdirSync(srcDir)) {
    if (!name.endsWith(".ts") || name.endsWith(".test.ts")) continue;
    const built = resolve(root, "dist/storage", name.replace(/\.ts$/, ".js"));
    if (!existsSync(built)) {
      throw new Error(`${built} is missing: run \`npm run build\` before this test`);
    }
    if (statSync(built).mtimeMs < statSync(resolve(srcDir, name)).mtimeMs) {
      throw new Error(`${built} is older than src/storage/${name}: run \`npm run build\``);
    }
  }
}

interface WriterPlan {
  readonly durability: LmdbDurability;
  /** Batches the writer would write if never killed. */
  readonly total: number;
  /** Writes issued per event turn. */
  readonly concurrency: number;
  /** Kill once this many writes are acknowledged (or once the writer says "done"). */
  readonly killAt: number;
}

/** Runs the writer and SIGKILLs it per `plan`; resolves with the batches it acknowledged. */
function writeThenKill(path: string, plan: WriterPlan): Promise<{ acked: Set<number> }> {
  const args = [fixture, path, plan.durability, String(plan.total), String(plan.concurrency)];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  const acked = new Set<number>();
  let partial = "";
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  child.stdout.on("data", (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split("\n");
    partial = lines.pop() ?? ""; // a line may arrive in two chunks
    for (const line of lines) {
      const match = /^acked (\d+)$/.exec(line);
      if (match) acked.add(Number(match[1]));
      if (line === "done" || acked.size >= plan.killAt) child.kill("SIGKILL");
    }
  });
  return new Promise((resolvePromise, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (signal === "SIGKILL") resolvePromise({ acked });
      else reject(new Error(`store writer exited with code ${code}, not killed: ${stderr}`));
    });
  });
}

/** Batch id → which of its two entries ("a", "b") are in the store. */
async function batchesIn(store: Store): Promise<Map<number, string[]>> {
  const found = new Map<number, string[]>();
  for await (const { key, value } of store.range(["batch"])) {
    const id = Number(key[1]);
    expect(new TextDecoder().decode(value)).toBe(`${key[2]}${id}`);
    found.set(id, [...(found.get(id) ?? []), key[2] as string]);
  }
  return found;
}

async function runAndCheck(plan: WriterPlan): Promise<Set<number>> {
  assertBuilt();
  const dir = await createTempDir("syncline-durable-");
  try {
    const { acked } = await writeThenKill(dir.path, plan);
    // The dead writer's data-directory lock is stale: reopening takes it over.
    const store = await openLmdbStore({ path: dir.path });
    const found = await batchesIn(store);
    await store.close();
    expect([...acked].filter((id) => !found.has(id))).toEqual([]);
    expect([...found].filter(([, parts]) => parts.join() !== "a,b")).toEqual([]);
    return acked;
  } finally {
    await dir.remove();
  }
}

describe("store durability across kill -9", () => {
  for (const durability of ["flush", "commit"] as const) {
    it(`keeps every batch acknowledged before a kill mid-stream (${durability})`, async () => {
      const plan = { durability, total: 100_000, concurrency: 8, killAt: 200 };
      const acked = await runAndCheck(plan);
      expect(acked.size).toBeGreaterThanOrEqual(200);
      expect(acked.size).toBeLessThan(plan.total);
    });

    it(`keeps the last batches when killed right after the final ack (${durability})`, async () => {
      const plan = { durability, total: 40, concurrency: 4, killAt: Number.POSITIVE_INFINITY };
      const acked = await runAndCheck(plan);
      expect(acked.size).toBe(40);
    });
  }
});
