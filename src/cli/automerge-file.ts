// A local Automerge document file for `syncline sync`: loaded if present, saved atomically
// (temp file in the same directory, fsync, rename) so a crash never leaves half a document.

import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { access, open, readFile, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import * as Automerge from "@automerge/automerge";
import { createError, describeError } from "../protocol/errors.js";

/** A loaded local file: the document (empty when the file is missing) and whether it existed. */
export interface LocalDocument {
  readonly path: string;
  readonly doc: Automerge.Doc<unknown>;
  readonly existed: boolean;
}

/**
 * Loads `path`. A missing or empty file is an empty document; anything unreadable or not an
 * Automerge document is ERR_LOCAL_FILE naming the path. With `mustBeWritable`, a missing file's
 * directory is checked now, so a sync does not run only to fail at the save.
 */
export async function loadAutomergeFile(
  path: string,
  options: { mustBeWritable: boolean },
): Promise<LocalDocument> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    if ((error as { code?: unknown }).code !== "ENOENT") throw localFileError(path, "read", error);
    if (options.mustBeWritable) await checkDirectoryWritable(path);
    return { path, doc: Automerge.init(), existed: false };
  }
  if (bytes.length === 0) return { path, doc: Automerge.init(), existed: true };
  try {
    return { path, doc: Automerge.load(new Uint8Array(bytes)), existed: true };
  } catch (error) {
    throw createError(
      "ERR_LOCAL_FILE",
      `sync: local file ${path} is not an Automerge document: ${describeError(error)}`,
      { cause: error },
    );
  }
}

/** Saves `doc` to `path` atomically; ERR_LOCAL_FILE naming the path if anything fails. */
export async function saveAutomergeFile(path: string, doc: Automerge.Doc<unknown>): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  const mode = await stat(path).then(
    (s) => s.mode & 0o777,
    () => 0o644,
  );
  try {
    const handle = await open(temp, "wx", mode);
    try {
      await handle.writeFile(Automerge.save(doc));
      // Durable before the rename, or a crash could leave the new name pointing at no data.
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true }).catch(() => {});
    throw localFileError(path, "write", error);
  }
  await syncDirectory(dirname(path));
}

async function checkDirectoryWritable(path: string): Promise<void> {
  try {
    await access(dirname(path), constants.W_OK);
  } catch (error) {
    throw localFileError(path, "create", error);
  }
}

// The rename is durable once the directory entry is; best effort, as some filesystems refuse.
async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {}
}

function localFileError(path: string, verb: string, error: unknown) {
  return createError(
    "ERR_LOCAL_FILE",
    `sync: cannot ${verb} local file ${path}: ${describeError(error)}`,
    { cause: error },
  );
}
