// A small tmpfs mounted for a test, to fill a disk for real (needs root, or CAP_SYS_ADMIN).
// Tests that need one fail under CI=true when it cannot be mounted, and are skipped otherwise.

import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A mounted tmpfs, or why there is none. */
export interface TestTmpfs {
  /** The mount point (a fresh temp directory). */
  readonly path: string;
  /** Why it could not be mounted; undefined when it is mounted. */
  readonly problem: string | undefined;
  /** Unmounts it (lazily, so a process still holding a file cannot stop it) and removes it. */
  remove(): void;
}

/** Mounts a tmpfs of `sizeMiB` MiB on a new temp directory. */
export function mountTmpfs(sizeMiB: number, prefix = "syncline-tmpfs-"): TestTmpfs {
  const path = mkdtempSync(join(tmpdir(), prefix));
  let problem: string | undefined;
  if (process.getuid?.() !== 0) problem = "mounting a tmpfs needs root";
  else {
    try {
      execFileSync("mount", ["-t", "tmpfs", "-o", `size=${sizeMiB}m`, "tmpfs", path], {
        stdio: "pipe",
      });
    } catch (error) {
      const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
      problem = `mount -t tmpfs failed: ${stderr || (error as Error).message}`;
    }
  }
  const mounted = problem === undefined;
  return {
    path,
    problem,
    remove() {
      if (mounted) execFileSync("umount", ["-l", path], { stdio: "pipe" });
      rmSync(path, { recursive: true, force: true });
    },
  };
}
