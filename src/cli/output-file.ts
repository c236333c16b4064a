// Where `recv -o PATH` writes, decided before connecting, so a wrong path costs no transfer and
// leaves nothing behind. As users expect of a command that writes a file:
// - a new path, or a regular file, is replaced atomically: the bytes go into a part file beside
//   it, renamed over it once they check out (an existing file keeps its permission bits);
// - a symbolic link is followed: the file it points to is replaced so (the link stays a link),
//   unless the link belongs to another user (not root), which could point anywhere;
// - a FIFO or a device is opened and written as the bytes arrive, never replaced (`-o /dev/tty`,
//   a named pipe another program reads); a socket cannot be written.

import { randomBytes } from "node:crypto";
import { accessSync, constants, lstatSync, readlinkSync, type Stats, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { createError, describeError } from "../protocol/errors.js";

/** How a payload reaches PATH: replaced (`path` is the file, links followed) or written into. */
export type OutputTarget =
  | {
      readonly kind: "replace";
      /** The file to replace: PATH, or the file its symbolic links lead to. */
      readonly path: string;
      /** The permission bits of the file replaced; undefined for a new file (made 0600). */
      readonly mode: number | undefined;
    }
  | { readonly kind: "direct"; readonly path: string };

/** Symbolic links followed at most, as the kernel's limit (ELOOP beyond). */
const maxLinks = 40;

/**
 * Decides how `path` is written, or throws: a directory (ERR_USAGE); a folder that is missing,
 * not a folder or not writable, a special file this user cannot write, a socket, a link loop or
 * another user's link (ERR_LOCAL_FILE). `context` goes first in the message (`recv`).
 */
export function resolveOutputTarget(path: string, context: string): OutputTarget {
  const shown = `${context}: -o ${path}`;
  if (/[/\\]$/.test(path)) throw isDirectoryError(shown);
  const absolute = resolve(path);
  // What the path is once every link is followed, as open() sees it: `/dev/stdout` is a link to
  // `/proc/self/fd/1`, whose target (`pipe:[…]`) is no path readlink could follow.
  const followed = statOrUndefined(absolute, shown);
  if (followed?.isDirectory()) throw isDirectoryError(shown);
  if (followed?.isSocket()) throw localError(`${shown} is a socket; it cannot be written to`);
  if (followed !== undefined && !followed.isFile()) {
    checkAccess(absolute, constants.W_OK, `${shown}: cannot write to ${absolute}`);
    return { kind: "direct", path: absolute };
  }
  const target = followLinks(absolute, shown);
  return replaced(target, followed === undefined ? undefined : followed.mode & 0o777, shown);
}

/**
 * The file `path`'s symbolic links lead to (it may not exist yet), each link's owner checked on
 * the way: the file is replaced by a rename in its own folder, which no kernel link protection
 * watches over.
 */
function followLinks(path: string, shown: string): string {
  let current = path;
  for (let links = 0; ; links++) {
    const stats = lstatOrUndefined(current, shown);
    if (stats === undefined || !stats.isSymbolicLink()) return current;
    if (links >= maxLinks) throw localError(`${shown}: too many symbolic links`);
    checkLinkOwner(stats, current, shown);
    current = resolve(dirname(current), readlinkSync(current));
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

/** A file to replace through a part file: its folder must exist and be writable. */
function replaced(path: string, mode: number | undefined, shown: string): OutputTarget {
  const folder = dirname(path);
  if (!statFolder(folder, shown).isDirectory()) {
    throw localError(`${shown}: ${folder} is not a folder`);
  }
  // The part file is created next to the output and renamed over it: both need the folder.
  checkAccess(
    folder,
    constants.W_OK | constants.X_OK,
    `${shown}: cannot write in folder ${folder}`,
  );
  return { kind: "replace", path, mode };
}

/** Follows a link only if it is ours or root's: another user's link could point anywhere. */
function checkLinkOwner(stats: Stats, path: string, shown: string): void {
  const uid = process.getuid?.();
  if (uid === undefined || stats.uid === uid || stats.uid === 0) return;
  throw localError(
    `${shown}: ${path} is a symbolic link owned by another user (uid ${stats.uid}); not following it`,
  );
}

function lstatOrUndefined(path: string, shown: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    // Missing, or under something that is not a folder: the folder check says which.
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw localFileError(error, `${shown}: cannot open ${path}`);
  }
}

function statOrUndefined(path: string, shown: string): Stats | undefined {
  try {
    return statSync(path);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    if (code === "ELOOP") throw localError(`${shown}: too many symbolic links`);
    throw localFileError(error, `${shown}: cannot open ${path}`);
  }
}

function statFolder(folder: string, shown: string): Stats {
  try {
    return statSync(folder);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === "ENOENT") throw localError(`${shown}: folder ${folder} does not exist`);
    if (code === "ENOTDIR") throw localError(`${shown}: ${folder} is not a folder`);
    throw localFileError(error, `${shown}: cannot open folder ${folder}`);
  }
}

function checkAccess(path: string, mode: number, message: string): void {
  try {
    accessSync(path, mode);
  } catch (error) {
    throw localFileError(error, message);
  }
}

function isDirectoryError(shown: string) {
  return createError("ERR_USAGE", `${shown} is a directory; give a file path`);
}

function localError(message: string) {
  return createError("ERR_LOCAL_FILE", message);
}

/** ERR_LOCAL_FILE: `message` and the cause, a denied access said in plain words. */
export function localFileError(error: unknown, message: string) {
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
