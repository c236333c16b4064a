// The LMDB driver against the shared conformance suite (both durability levels), plus what only
// it has: the data-directory lock, open failures, and lmdb-js's batching of large bursts.

import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type LmdbDurability, openLmdbStore } from "./lmdb-store.js";
import { runStoreTests } from "./testing/run-store-tests.js";

const made: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "syncline-lmdb-"));
  made.push(dir);
  return dir;
}

for (const durability of ["flush", "commit"] as LmdbDurability[]) {
  runStoreTests(`lmdb (${durability})`, async () => {
    const path = await tempDir();
    return {
      store: await openLmdbStore({ path, durability }),
      reopen: () => openLmdbStore({ path, durability }),
      teardown: () => rm(path, { recursive: true, force: true }),
    };
  });
}

const codeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: { code?: string }) => error.code,
  );

describe("lmdb store", () => {
  afterEach(async () => {
    await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it("creates the data directory and its files, and releases the lock on close", async () => {
    const path = join(await tempDir(), "nested", "data");
    const store = await openLmdbStore({ path });
    expect(store.status()).toEqual({ driver: "lmdb", state: "open" });
    expect(existsSync(join(path, "syncline.mdb"))).toBe(true);
    expect(existsSync(join(path, "syncline.lock"))).toBe(true);
    await store.close();
    expect(existsSync(join(path, "syncline.lock"))).toBe(false);
  });

  it("locks its data directory against a second open until closed", async () => {
    const path = await tempDir();
    const first = await openLmdbStore({ path });
    expect(await codeOf(openLmdbStore({ path }))).toBe("ERR_DATA_DIR_LOCKED");
    await first.close();
    const second = await openLmdbStore({ path });
    expect(second.status().state).toBe("open");
    await second.close();
  });

  it("refuses a lock held by another running process", async () => {
    const path = await tempDir();
    await writeFile(join(path, "syncline.lock"), `${process.ppid}\n`);
    expect(await codeOf(openLmdbStore({ path }))).toBe("ERR_DATA_DIR_LOCKED");
  });

  it("takes over a lock left by a dead process or holding garbage", async () => {
    const path = await tempDir();
    for (const content of ["2147483646\n", "not a pid"]) {
      await writeFile(join(path, "syncline.lock"), content);
      const store = await openLmdbStore({ path });
      await store.close();
    }
  });

  it("reports a data directory that cannot be created as ERR_STORE_OPEN", async () => {
    const parent = await tempDir();
    await writeFile(join(parent, "file"), "");
    expect(await codeOf(openLmdbStore({ path: join(parent, "file", "data") }))).toBe(
      "ERR_STORE_OPEN",
    );
    expect(await codeOf(openLmdbStore({ path: `${parent}/bad\u0000name` }))).toBe("ERR_STORE_OPEN");
  });

  it("refuses a database file that is not LMDB with ERR_STORE_OPEN, not a crash", async () => {
    const path = await tempDir();
    await writeFile(join(path, "syncline.mdb"), Buffer.alloc(64 * 1024, "garbage "));
    expect(await codeOf(openLmdbStore({ path }))).toBe("ERR_STORE_OPEN");
    expect(existsSync(join(path, "syncline.lock"))).toBe(false);
  });

  it("reports a database path that is a directory as ERR_STORE_OPEN", async () => {
    const path = await tempDir();
    await mkdir(join(path, "syncline.mdb"));
    expect(await codeOf(openLmdbStore({ path }))).toBe("ERR_STORE_OPEN");
  });

  it("refuses an unknown durability level or a bad map size", async () => {
    const path = await tempDir();
    const durability = "eventually" as LmdbDurability;
    expect(await codeOf(openLmdbStore({ path, durability }))).toBe("ERR_INVALID_CONFIG");
    expect(await codeOf(openLmdbStore({ path, mapSize: -1 }))).toBe("ERR_INVALID_CONFIG");
  });

  it("lands a burst of large writes in one turn (past lmdb-js's batch threshold)", async () => {
    const path = await tempDir();
    const store = await openLmdbStore({ path, mapSize: 1024 * 1024 });
    const value = new Uint8Array(64 * 1024).fill(7);
    const writes = Array.from({ length: 80 }, (_, i) =>
      store.write([{ type: "put", key: ["burst", String(i).padStart(2, "0")], value }]),
    );
    await Promise.all(writes);
    let count = 0;
    for await (const entry of store.range(["burst"])) {
      count += entry.value.length === value.length ? 1 : 0;
    }
    expect(count).toBe(80);
    await store.close();
  });
});
