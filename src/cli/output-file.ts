// The file a command writes a received payload into (`recv -o FILE`): checked before connecting,
// so a wrong path costs no transfer and leaves nothing behind, and the name of the part file the
// bytes go into until they check out.

import { randomBytes } from "node:crypto";
import { accessSync, constants, type Stats, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { createError, describeError } from "../protocol/errors.js";

/**
 * Throws when `path` cannot become a file written by renaming a part file into place: it is a
 * directory (ERR_USAGE), or its folder is missing, not a folder, or not writable by this user
 * (ERR_LOCAL_FILE). `context` goes first in the message (`recv`).
 */
export function checkOutputFile(path: string, context: string): void {
  const shown = `${context}: -o ${path}`;
  if (/[/\\]$/.test(path) || isDirectory(path)) {
    throw createError("ERR_USAGE", `${shown} is a directory; give a file path`);
  }
  const folder = dirname(resolve(path));
  if (!statFolder(folder, shown).isDirectory()) {
    throw createError("ERR_LOCAL_FILE", `${shown}: ${folder} is not a folder`);
  }
  try {
    // The part file is created next to the output and renamed over it: both need the folder.
    accessSync(folder, constants.W_OK | constants.X_OK);
  } catch (error) {
    throw localFileError(error, `${shown}: cannot write in folder ${folder}`);
  }
}

/**
 * The part file for `target`: hidden, in the target's own folder (so the final rename never
 * crosses file systems), with a local random suffix. Nothing in it comes from a peer, so a
 * sender cannot steer the name.
 */
export function partFileFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.${randomBytes(6).toString("hex")}.part`);
}

function statFolder(folder: string, shown: string): Stats {
  try {
    return statSync(folder);
  } catch (error) {
    if ((error as { code?: unknown }).code === "ENOENT") {
      throw createError("ERR_LOCAL_FILE", `${shown}: folder ${folder} does not exist`);
    }
    throw localFileError(error, `${shown}: cannot open folder ${folder}`);
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false; // missing or unreachable: the folder check says why
  }
}

/** ERR_LOCAL_FILE: `message` and the cause, a denied access said in plain words. */
function localFileError(error: unknown, message: string) {
  const code = (error as { code?: unknown }).code;
  const denied = code === "EACCES" || code === "EPERM" || code === "EROFS";
  const reason =
    code === "EROFS"
      ? "permission denied: read-only file system"
      : denied
        ? "permission denied"
        : describeError(error);
  return createError("ERR_LOCAL_FILE", `${message} (${reason})`, { cause: error });
}
