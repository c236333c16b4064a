// `syncline data export`: every entry of the store (documents, shares, channel records and kept
// payloads) and every spooled payload, as a dump (data-dump-format.ts). Reads only; run it on a
// stopped server for a consistent copy (LMDB's data directory lock insists on it; on Postgres a
// running node's writes during the export may or may not be in it).

import { createHash } from "node:crypto";
import { open, readdir } from "node:fs/promises";
import { join } from "node:path";
import { spoolFileName } from "../channels/channel-records.js";
import type { Store } from "../storage/store.js";
import { type DumpTotals, dumpFormat, dumpPieceBytes, dumpVersion } from "./data-dump-format.js";

/** Where the dump goes: one call per line (with its newline); awaited, so a slow sink holds us. */
export type DumpSink = (line: string) => Promise<void>;

/** Writes the dump of `store` and the spool folder to `sink`; returns what it holds. */
export async function exportData(
  store: Store,
  spoolFolder: string,
  sink: DumpSink,
): Promise<DumpTotals> {
  const hash = createHash("sha256");
  const totals = { entries: 0, spoolFiles: 0, bytes: 0 };
  const line = (value: object) => sink(`${JSON.stringify(value)}\n`);
  const data = async (bytes: Uint8Array) => {
    hash.update(bytes);
    totals.bytes += bytes.length;
    for (let at = 0; at < bytes.length; at += dumpPieceBytes) {
      const piece = Buffer.from(
        bytes.buffer,
        bytes.byteOffset + at,
        Math.min(dumpPieceBytes, bytes.length - at),
      );
      await line({ type: "data", base64: piece.toString("base64") });
    }
  };
  await line({
    format: dumpFormat,
    version: dumpVersion,
    createdAt: new Date().toISOString(),
    store: store.status().driver,
  });
  for await (const entry of store.range([])) {
    await line({ type: "entry", key: entry.key, size: entry.value.length });
    await data(entry.value);
    totals.entries++;
  }
  for (const name of await spoolFiles(spoolFolder)) {
    const file = await open(join(spoolFolder, name), "r");
    try {
      const { size } = await file.stat();
      await line({ type: "spool", name, size });
      const buffer = Buffer.allocUnsafe(dumpPieceBytes);
      for (let at = 0; at < size; ) {
        const { bytesRead } = await file.read(buffer, 0, Math.min(dumpPieceBytes, size - at), at);
        if (bytesRead === 0) throw new Error(`spool file ${name} shrank while it was read`);
        await data(buffer.subarray(0, bytesRead));
        at += bytesRead;
      }
    } finally {
      await file.close();
    }
    totals.spoolFiles++;
  }
  await line({ type: "end", ...totals, sha256: hash.digest("hex") });
  return totals;
}

/** The spool files (names the server makes), in name order; none when there is no folder. */
async function spoolFiles(folder: string): Promise<string[]> {
  try {
    return (await readdir(folder)).filter((name) => spoolFileName.test(name)).sort();
  } catch (error) {
    if ((error as { code?: string }).code === "ENOENT") return [];
    throw error;
  }
}
