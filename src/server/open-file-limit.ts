// The default cap on open connections: below the process's open-file limit, so that the store,
// worker threads and authorized_keys can still open files when connections are at the cap.

import { readFileSync } from "node:fs";

/** Files kept for the server itself (store, workers, logs, reloads) below the open-file limit. */
const reservedFiles = 256;
/** Past this many, memory (not files) is what runs out first on a small machine. */
const ceiling = 20_000;

/** The open-file limit less 256, at most 20000 (20000 where the limit cannot be read). */
export function defaultMaxConnections(): number {
  const limit = softOpenFileLimit();
  if (limit === undefined) return ceiling;
  return Math.max(64, Math.min(ceiling, limit - reservedFiles));
}

/** The soft RLIMIT_NOFILE from /proc (Linux); undefined elsewhere or when unlimited. */
function softOpenFileLimit(): number | undefined {
  try {
    const limits = readFileSync("/proc/self/limits", "utf8");
    const soft = /^Max open files\s+(\d+)/m.exec(limits)?.[1];
    return soft === undefined ? undefined : Number(soft);
  } catch {
    return undefined;
  }
}
