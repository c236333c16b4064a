// The LMDB driver on a disk that fills up for real (a small tmpfs): a write that does not fit
// rejects with ERR_STORE_WRITE and nothing else (vitest fails on any unhandled rejection, and
// lmdb-js leaves two of its own per failed commit), reads go on, writes succeed again once space
// is back, close settles even right after a failed commit, and what was acknowledged is there
// after a reopen; opening on the full disk is a clean ERR_STORE_OPEN. Needs root to mount: fails under CI=true without it, skipped otherwise.

import { existsSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openLmdbStore } from "../../src/storage/lmdb-store.js";
import type { Store } from "../../src/storage/store.js";
import { mountTmpfs } from "../helpers/tmpfs.js";

const disk = mountTmpfs(3, "syncline-lmdb-full-");
if (disk.problem !== undefined) disk.remove();

if (disk.problem !== undefined && process.env.CI) {
  describe("lmdb store on a full disk", () => {
    it("has a tmpfs to fill (required under CI=true)", () => {
      throw new Error(`lmdb full-disk test under CI=true: ${disk.problem}`);
    });
  });
}

/** 128 KiB that LMDB stores as overflow pages: each write needs fresh space. */
const value = (n: number) => new Uint8Array(128 * 1024).fill(n % 251);
const key = (n: number) => ["full", String(n).padStart(4, "0")];

/** Writes one value after another until one is refused; the acknowledged ones and the refusal. */
async function fill(store: Store): Promise<{ acked: number[]; refusal: unknown }> {
  const acked: number[] = [];
  for (let n = 0; n < 100; n++) {
    try {
      await store.write([{ type: "put", key: key(n), value: value(n) }]);
      acked.push(n);
    } catch (error) {
      return { acked, refusal: error };
    }
  }
  throw new Error("the disk never filled up");
}

/** Takes 512 KiB of the disk, to be given back later. */
function fillerFile(): string {
  const path = join(disk.path, "filler");
  writeFileSync(path, Buffer.alloc(512 * 1024));
  return path;
}

/** Every acknowledged value is stored as written (compared as bytes: toEqual is slow on 128 KiB). */
async function expectAcked(store: Store, acked: readonly number[]): Promise<void> {
  const wrong: number[] = [];
  for (const n of acked) {
    const stored = await store.get(key(n));
    if (!stored || !Buffer.from(stored).equals(value(n))) wrong.push(n);
  }
  expect(wrong).toEqual([]);
}

describe.skipIf(disk.problem !== undefined)("lmdb store on a full disk", () => {
  afterAll(() => disk.remove());

  it("refuses what does not fit, keeps reading, and writes again once space is back", async () => {
    const path = join(disk.path, "recovers");
    const filler = fillerFile();
    let store = await openLmdbStore({ path });
    const { acked, refusal } = await fill(store);
    expect(acked.length).toBeGreaterThan(2);
    expect(refusal).toMatchObject({ code: "ERR_STORE_WRITE" });
    expect((refusal as Error).message).not.toContain(disk.path); // 503 bodies carry it
    const next = acked.length;
    await expect(
      store.write([{ type: "put", key: key(next), value: value(next) }]),
    ).rejects.toMatchObject({ code: "ERR_STORE_WRITE" });
    await expectAcked(store, acked);

    await rm(filler);
    await store.write([{ type: "put", key: key(next), value: value(next) }]);
    await store.close();
    store = await openLmdbStore({ path });
    await expectAcked(store, [...acked, next]);
    await store.close();
    await rm(path, { recursive: true });
  });

  it("closes right after a failed commit, and reopens with everything acknowledged", async () => {
    const path = join(disk.path, "closes");
    const filler = fillerFile();
    let store = await openLmdbStore({ path });
    const { acked, refusal } = await fill(store);
    expect(refusal).toMatchObject({ code: "ERR_STORE_WRITE" });
    // Starting on the full disk: refused as an open failure, leaving no empty lock behind (which
    // would read as a process starting up and refuse the next start too).
    const other = join(disk.path, "other");
    expect(await openLmdbStore({ path: other }).catch((error) => error)).toMatchObject({
      code: "ERR_STORE_OPEN",
    });
    expect(existsSync(join(other, "syncline.lock"))).toBe(false);
    // lmdb-js waits for the failed transaction's flush on close, which never comes by itself.
    await store.close();
    expect(store.status().state).toBe("closed");
    await rm(filler); // the lock file needs a block of its own
    store = await openLmdbStore({ path });
    await expectAcked(store, acked);
    await store.close();
  });
});
