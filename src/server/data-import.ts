// `syncline data import`: a dump (data-dump-format.ts) into an empty store and spool folder —
// restoring a backup, or moving from the embedded store to Postgres. The file is checked whole
// first (data-dump-reader.ts), so a damaged or truncated dump imports nothing; then its entries
// are written in batches and its spooled payloads as files, each synced.

import type { FileHandle } from "node:fs/promises";
import { chmod, mkdir, open, readdir } from "node:fs/promises";
import { join } from "node:path";
import { spoolFileName } from "../channels/channel-records.js";
import { createError } from "../protocol/errors.js";
import type { Store, StoreOp } from "../storage/store.js";
import type { DumpTotals } from "./data-dump-format.js";
import { walkDump } from "./data-dump-reader.js";

/** A batch is written once it holds this many bytes of values, or this many entries. */
const batchBytes = 8 * 1024 * 1024;
const batchEntries = 1000;

/** Imports the dump at `path`; returns what it held. */
export async function importData(
  store: Store,
  spoolFolder: string,
  path: string,
): Promise<DumpTotals> {
  await walkDump(path); // throws ERR_DATA_DUMP before anything is written
  await assertEmpty(store, spoolFolder);
  await mkdir(spoolFolder, { recursive: true, mode: 0o700 });
  await chmod(spoolFolder, 0o700);
  let batch: StoreOp[] = [];
  let held = 0;
  const flush = async () => {
    if (batch.length > 0) await store.write(batch);
    batch = [];
    held = 0;
  };
  let file: FileHandle | undefined;
  const totals = await walkDump(path, {
    async entry(key, value) {
      batch.push({ type: "put", key, value });
      held += value.length;
      if (held >= batchBytes || batch.length >= batchEntries) await flush();
    },
    async spoolStart(name) {
      // The name was checked against the server's own pattern (data-dump-format.ts): it is
      // never a path, and "wx" refuses to overwrite anything.
      file = await open(join(spoolFolder, name), "wx", 0o600);
    },
    async piece(bytes) {
      await file?.write(bytes);
    },
    async spoolEnd() {
      await file?.sync();
      await file?.close();
      file = undefined;
    },
  }).finally(() => file?.close());
  await flush();
  return { entries: totals.entries, spoolFiles: totals.spoolFiles, bytes: totals.bytes };
}

/** Throws ERR_DATA_NOT_EMPTY unless the store has no entry and the spool folder no payload. */
async function assertEmpty(store: Store, spoolFolder: string): Promise<void> {
  for await (const entry of store.range([], { limit: 1 })) {
    throw createError(
      "ERR_DATA_NOT_EMPTY",
      `data import: the ${store.status().driver} store already holds entries (the first: ${entry.key.join("/")}); nothing was imported`,
    );
  }
  const names = await readdir(spoolFolder).catch(() => [] as string[]);
  if (names.some((name) => spoolFileName.test(name))) {
    throw createError(
      "ERR_DATA_NOT_EMPTY",
      `data import: the spool folder ${spoolFolder} already holds payloads; nothing was imported`,
    );
  }
}
