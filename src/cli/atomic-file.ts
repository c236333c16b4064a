// Replacing a small local file (share records, known_hosts) so that a crash never leaves half of
// it and readers need no lock: the content goes into a fsynced temporary file beside it, mode 0600
// (these files hold secrets or trust), which is then renamed over it.

import { randomBytes } from "node:crypto";
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from "node:fs";

/**
 * Writes `content` to `path` atomically, mode 0600. `beforeRename` runs once the data is on disk
 * and may throw to abandon the write (a lock that is no longer ours). Throws what failed; the
 * temporary file is removed then.
 */
export function writeFileAtomically(
  path: string,
  content: string,
  beforeRename: () => void = () => {},
): void {
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    const fd = openSync(temporary, "wx", 0o600);
    try {
      writeSync(fd, content);
      fsyncSync(fd); // the data is on disk before the rename makes it the file
    } finally {
      closeSync(fd);
    }
    beforeRename();
    renameSync(temporary, path);
  } catch (error) {
    try {
      unlinkSync(temporary);
    } catch {
      // never created, or already renamed
    }
    throw error;
  }
}
