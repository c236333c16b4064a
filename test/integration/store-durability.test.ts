// An acknowledged write survives kill -9: a child writes to the LMDB store and is SIGKILLed
// right after a write resolves; reopening the store shows every acknowledged batch.

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { openLmdbStore } from "../../src/storage/lmdb-store.js";
import type { Store } from "../../src/storage/store.js";
import { createTempDir } from "../helpers/temp-dir.js";

const fixture = resolve(import.meta.dirname, "../fixtures/store-writer.mjs");
const built = resolve(import.meta.dirname, "../../dist/storage/lmdb-store.js");

/** Runs the writer and SIGKILLs it as soon as it has printed "acked <killAt>". */
function writeThenKill(path: string, durability: string, killAt: number): Promise<number> {
  if (!existsSync(built)) throw new Error(`${built} is missing: run npm run build first`);
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [fixture, path, durability, "100000"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let acked = 0;
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.stdout.on("data", (chunk: Buffer) => {
      for (const match of chunk.toString().matchAll(/acked (\d+)/g)) {
        acked = Math.max(acked, Number(match[1]));
      }
      if (acked >= killAt) child.kill("SIGKILL");
    });
    child.on("close", (_code, signal) => {
      if (signal === "SIGKILL") resolvePromise(acked);
      else reject(new Error(`writer ended without being killed: ${stderr}`));
    });
  });
}

async function batchesIn(store: Store): Promise<number[]> {
  const found: number[] = [];
  for await (const entry of store.range(["batch"])) found.push(Number(entry.key[1]));
  return found;
}

describe("store durability across kill -9", () => {
  for (const durability of ["flush", "commit"] as const) {
    it(`keeps every acknowledged batch (${durability})`, async () => {
      const dir = await createTempDir("syncline-durable-");
      try {
        const acked = await writeThenKill(dir.path, durability, 200);
        expect(acked).toBeGreaterThanOrEqual(200);
        // The dead writer's lock is stale: reopening takes it over.
        const store = await openLmdbStore({ path: dir.path });
        const found = await batchesIn(store);
        const expected = Array.from({ length: acked }, (_, i) => i + 1);
        expect(found.slice(0, acked)).toEqual(expected);
        const last = Number(new TextDecoder().decode(await store.get(["last"])).split(" ")[1]);
        expect(last).toBeGreaterThanOrEqual(acked);
        await store.close();
      } finally {
        await dir.remove();
      }
    });
  }
});
