// The portable dump of `syncline data export` / `import`: one JSON object per line (NDJSON), so
// it streams, survives any text tool, and reads the same whichever store wrote it (LMDB or
// Postgres). Values are base64 in pieces of at most 1 MiB of bytes, so no line, and no string
// held while reading it, grows with the largest value (a spooled payload may be 1 GiB).
//
//   {"format":"syncline-dump","version":1,"createdAt":"…","store":"lmdb"}   the header
//   {"type":"entry","key":["share","abc","meta"],"size":123}              a store entry,
//   {"type":"data","base64":"…"}                                          its bytes (none for 0)
//   {"type":"spool","name":"<32 hex>.payload","size":456}                 a spooled payload,
//   {"type":"data","base64":"…"}                                          its bytes
//   {"type":"end","entries":1,"spoolFiles":1,"bytes":579,"sha256":"…"}   counts, and the SHA-256
//                                                                          of every data byte
// A dump without its end line is truncated and refused.

import { spoolFileName } from "../channels/channel-records.js";
import { createError } from "../protocol/errors.js";
import type { StoreKey } from "../storage/store.js";
import { assertValidStoreKey } from "../storage/store-key.js";

export const dumpFormat = "syncline-dump";
export const dumpVersion = 1;
/** Bytes of a value per data line. */
export const dumpPieceBytes = 1024 * 1024;
/** The longest line a reader accepts: a full piece in base64, with room for the JSON around it. */
export const maxDumpLineLength = Math.ceil(dumpPieceBytes / 3) * 4 + 1024;

export interface DumpHeader {
  readonly format: typeof dumpFormat;
  readonly version: number;
  readonly createdAt: string;
  /** The driver the dump was read from ("lmdb", "postgres"). */
  readonly store: string;
}

/** The counts a dump ends with. */
export interface DumpTotals {
  readonly entries: number;
  readonly spoolFiles: number;
  /** Value and payload bytes. */
  readonly bytes: number;
}

export type DumpLine =
  | { readonly type: "entry"; readonly key: StoreKey; readonly size: number }
  | { readonly type: "spool"; readonly name: string; readonly size: number }
  | { readonly type: "data"; readonly bytes: Buffer }
  | ({ readonly type: "end"; readonly sha256: string } & DumpTotals);

/** The error for line `line` of a dump; nothing was imported. */
export function dumpError(line: number, problem: string) {
  return createError(
    "ERR_DATA_DUMP",
    `data import: line ${line}: ${problem}; nothing was imported`,
  );
}

/** Checks the first line; throws ERR_DATA_DUMP unless it is a header this release reads. */
export function parseDumpHeader(text: string | undefined): DumpHeader {
  if (text === undefined) throw dumpError(1, "the file is empty");
  const header = parseObject(text, 1);
  if (header.format !== dumpFormat) {
    throw dumpError(1, `not a syncline dump (its first line has no "format":"${dumpFormat}")`);
  }
  if (header.version !== dumpVersion) {
    throw dumpError(
      1,
      `format version ${JSON.stringify(header.version)}; this release reads version ${dumpVersion}`,
    );
  }
  return header as unknown as DumpHeader;
}

/** Parses line `line` (after the header); throws ERR_DATA_DUMP naming what is wrong. */
export function parseDumpLine(text: string, line: number): DumpLine {
  const value = parseObject(text, line);
  switch (value.type) {
    case "entry": {
      const key = value.key as StoreKey;
      try {
        assertValidStoreKey(key);
      } catch (error) {
        throw dumpError(line, (error as Error).message);
      }
      return { type: "entry", key, size: size(value.size, line) };
    }
    case "spool": {
      const name = value.name;
      if (typeof name !== "string" || !spoolFileName.test(name)) {
        throw dumpError(line, `spool file name ${JSON.stringify(name)} is not <32 hex>.payload`);
      }
      return { type: "spool", name, size: size(value.size, line) };
    }
    case "data": {
      const text64 = value.base64;
      if (typeof text64 !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(text64)) {
        throw dumpError(line, "a data line whose base64 is not base64");
      }
      const bytes = Buffer.from(text64, "base64");
      if (bytes.length === 0 || bytes.length > dumpPieceBytes) {
        throw dumpError(line, `a data line of ${bytes.length} bytes (1 to ${dumpPieceBytes})`);
      }
      return { type: "data", bytes };
    }
    case "end": {
      const sha256 = value.sha256;
      if (typeof sha256 !== "string" || !/^[0-9a-f]{64}$/.test(sha256)) {
        throw dumpError(line, "an end line without a SHA-256");
      }
      return {
        type: "end",
        sha256,
        entries: size(value.entries, line),
        spoolFiles: size(value.spoolFiles, line),
        bytes: size(value.bytes, line),
      };
    }
    default:
      throw dumpError(line, `unknown line type ${JSON.stringify(value.type)}`);
  }
}

function parseObject(text: string, line: number): Record<string, unknown> {
  if (text.length > maxDumpLineLength) {
    throw dumpError(line, `a line of ${text.length} characters (at most ${maxDumpLineLength})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw dumpError(line, "not a JSON object");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw dumpError(line, "not a JSON object");
  }
  return value as Record<string, unknown>;
}

function size(value: unknown, line: number): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw dumpError(line, `${JSON.stringify(value)} is not a size or count`);
  }
  return value;
}
