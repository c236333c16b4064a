import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openLmdbStore } from "./lmdb-store.js";
import { runStoreTests } from "./testing/run-store-tests.js";

const tempDir = () => mkdtemp(join(tmpdir(), "syncline-lmdb-"));

runStoreTests("lmdb", async () => {
  const path = await tempDir();
  return {
    store: await openLmdbStore({ path }),
    reopen: () => openLmdbStore({ path }),
    teardown: () => rm(path, { recursive: true, force: true }),
  };
});

runStoreTests("lmdb (commit durability)", async () => {
  const path = await tempDir();
  return {
    store: await openLmdbStore({ path, durability: "commit" }),
    reopen: () => openLmdbStore({ path, durability: "commit" }),
    teardown: () => rm(path, { recursive: true, force: true }),
  };
});

describe("lmdb store", () => {
  it("locks its data directory against a second open until closed", async () => {
    const path = await tempDir();
    const first = await openLmdbStore({ path });
    await expect(openLmdbStore({ path })).rejects.toMatchObject({ code: "ERR_DATA_DIR_LOCKED" });
    await first.close();
    const second = await openLmdbStore({ path });
    expect(second.status()).toEqual({ driver: "lmdb", state: "open", location: path });
    await second.close();
    await rm(path, { recursive: true, force: true });
  });

  it("takes over a lock left by a process that no longer runs", async () => {
    const path = await tempDir();
    await writeFile(join(path, "syncline.lock"), "2147483646\n");
    const store = await openLmdbStore({ path });
    await store.close();
    await writeFile(join(path, "syncline.lock"), "not a pid");
    const again = await openLmdbStore({ path });
    await again.close();
    await rm(path, { recursive: true, force: true });
  });

  it("refuses a lock held by a live process, naming its pid", async () => {
    const path = await tempDir();
    await writeFile(join(path, "syncline.lock"), `${process.ppid}\n`);
    const error = await openLmdbStore({ path }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "ERR_DATA_DIR_LOCKED" });
    expect(String((error as Error).message)).toContain(String(process.ppid));
    await rm(path, { recursive: true, force: true });
  });

  it("reports a data directory that cannot be created as ERR_STORE_OPEN", async () => {
    const path = await tempDir();
    await writeFile(join(path, "file"), "");
    await expect(openLmdbStore({ path: join(path, "file", "data") })).rejects.toMatchObject({
      code: "ERR_STORE_OPEN",
    });
    await rm(path, { recursive: true, force: true });
  });
});
