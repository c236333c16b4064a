// A pre-flight check of an existing LMDB data file, because lmdb-js 3.5.6 crashes the whole
// process (SIGSEGV) instead of throwing when LMDB refuses to open a file.
//
// The crash: when mdb_env_open fails, src/env.cpp:394 deletes the env's ExtendedEnv and then
// closeEnv (env.cpp:761) deletes it again. So we refuse, with an error, the files LMDB would
// refuse (mdb.c mdb_env_read_header: no meta page, bad magic, other data version, too short)
// and files we could not read and write, before lmdb-js ever sees them.

import { accessSync, closeSync, constants, openSync, readSync, statSync } from "node:fs";
import { createError, describeError } from "../protocol/errors.js";

/** LMDB's MDB_MAGIC, in every meta page. */
const lmdbMagic = 0xbeefc0de;
/** The data format of lmdb-js's LMDB (mdb.master3): MDB_DATA_VERSION. */
const lmdbDataVersion = 2;
/** P_META, the page flag of the meta pages. */
const metaPageFlag = 0x08;
/** Offsets in the first page: page flags, then in the meta: magic, version, page size. */
const offsets = { flags: 0x12, magic: 0x18, version: 0x1c, pageSize: 0x30 } as const;

/**
 * Throws ERR_STORE_OPEN unless `path` is missing, empty (LMDB creates it), or a readable and
 * writable regular file that starts with a valid LMDB meta page of our data version.
 */
export function checkLmdbFile(path: string): void {
  let size: number;
  try {
    const stats = statSync(path);
    if (!stats.isFile()) throw new Error("not a regular file");
    size = stats.size;
    if (size === 0) return;
    accessSync(path, constants.R_OK | constants.W_OK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw refuse(path, describeError(error), error);
  }
  const problem = metaProblem(readStart(path), size);
  if (problem) throw refuse(path, problem);
}

function readStart(path: string): Buffer {
  const head = Buffer.alloc(64);
  let fd: number | undefined;
  try {
    fd = openSync(path, "r");
    const length = readSync(fd, head, 0, head.length, 0);
    return head.subarray(0, length);
  } catch (error) {
    throw refuse(path, describeError(error), error);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Why the first page is not a usable LMDB meta page, or undefined if it is. */
function metaProblem(head: Buffer, size: number): string | undefined {
  if (head.length < 64) return `it is ${size} bytes, too short for an LMDB database`;
  const magic = head.readUInt32LE(offsets.magic);
  if ((head.readUInt16LE(offsets.flags) & metaPageFlag) === 0 || magic !== lmdbMagic) {
    return "it is not an LMDB database (no LMDB meta page)";
  }
  const version = head.readUInt32LE(offsets.version) & 0xffff;
  if (version !== lmdbDataVersion) {
    return `its LMDB data version is ${version}, this build reads version ${lmdbDataVersion}`;
  }
  const pageSize = head.readUInt32LE(offsets.pageSize);
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) {
    return `its page size ${pageSize} is invalid`;
  }
  if (size < 2 * pageSize) return `it is ${size} bytes, shorter than its two meta pages`;
  return undefined;
}

function refuse(path: string, why: string, cause?: unknown) {
  return createError("ERR_STORE_OPEN", `store: cannot open LMDB file ${path}: ${why}`, { cause });
}
