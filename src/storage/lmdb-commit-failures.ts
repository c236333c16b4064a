// What lmdb-js does when a commit fails (a full disk, an I/O error), and the two guards that keep
// such a failure a rejected write of ours rather than an unhandled rejection that ends the process.

import { constants } from "node:os";
import { setImmediate as nextTurn } from "node:timers/promises";
import { describeError } from "../protocol/errors.js";

/*
 * lmdb-js 3.5.6, read in node_modules/lmdb/write.js and confirmed on a full tmpfs:
 *
 * - A failed transaction (write.js:566-618, rejectCommit) rejects the promise of each of its
 *   writes with a generic "Commit failed (see commitError for details)" whose `commitError` is a
 *   second promise; the same native callback (write.js:510-522) then logs the real error with
 *   console.error and rejects `commitError` with it (its `code` is LMDB's status, an errno: EIO
 *   for a short write, which is what a full disk usually gives, or ENOSPC). Nobody else holds
 *   `commitError`, so unless the write's owner handles it, it is an unhandled rejection.
 * - With event-turn batching (the default; the store relies on it to join one turn's writes into
 *   one commit), each turn's transaction is started by an internal write (`writeBatchStart`,
 *   write.js:197-218) whose promise is dropped (write.js:213). It resolves unseen when the commit
 *   succeeds and becomes an unhandled rejection when it fails: this is what ended the server on
 *   the second write past a full disk.
 *
 * - A transaction's flush promise resolves only when it commits (write.js:497-505): after a
 *   failed one, `db.flushed` and `db.close()`, which waits for it (write.js:1073-1083), never
 *   settle, and a shutdown while the disk is full would hang (Node then exits 13).
 *
 * Node 20 ends the process on an unhandled rejection, so the first two are handled here; the
 * third is cleared by `commitNothing` before closing.
 */

interface CommittedDatabase {
  /** lmdb-js's thenable for the latest transaction's commit (write.js:1040-1046). */
  readonly committed: PromiseLike<unknown>;
  on(event: "beforecommit", listener: () => void): void;
  remove(key: Buffer): PromiseLike<unknown>;
}

/** No encoded store key starts with 0xff (store-key.ts: UTF-8 and 00/01 escapes never have it). */
const neverStoredKey = Buffer.from([0xff]);

const ignore = () => {};

/**
 * Handles the promise each turn's transaction starts with. The `beforecommit` listeners run in the
 * turn's batch task just before `writeBatchStart()` (write.js:199-213); a microtask queued there
 * runs as soon as that task returns, when `db.committed` is the promise it just made. A turn whose
 * batch started early (past lmdb-js's batch threshold) hands that promise to the write that
 * started it instead, which awaits it.
 */
export function guardTurnCommits(db: CommittedDatabase): void {
  db.on("beforecommit", () => {
    queueMicrotask(() => {
      db.committed.then(undefined, ignore);
    });
  });
}

/**
 * Commits a transaction that changes nothing (removes a key no store key can be), so that the
 * latest transaction is one that committed and `db.flushed` and `db.close()` settle again after a
 * failed commit. LMDB commits a transaction with no dirty page without writing, so this succeeds
 * on a full disk too (verified on a full tmpfs); rejects if it does not.
 */
export async function commitNothing(db: CommittedDatabase): Promise<void> {
  try {
    await db.remove(neverStoredKey);
  } catch (error) {
    throw await commitFailureCause(error);
  }
}

/**
 * The real error behind a failed commit: the reason of its `commitError`, which is rejected in
 * the same callback as the write (so it has settled by the time the write's owner sees the
 * failure; one event-loop turn is allowed for it), and handled here either way. Anything else is
 * returned as it is.
 */
export async function commitFailureCause(error: unknown): Promise<unknown> {
  const detail = (error as { commitError?: unknown } | null)?.commitError;
  if (!isThenable(detail)) return error;
  let cause: unknown = error;
  const read = Promise.resolve(detail).then(ignore, (reason: unknown) => {
    cause = reason;
  });
  await Promise.race([read, nextTurn()]);
  return cause;
}

/** A short description of an lmdb-js error, with the errno's name when its code is one. */
export function describeLmdbError(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  const name = typeof code === "number" ? errnoName(code) : undefined;
  return name === undefined ? describeError(error) : `${(error as Error).message} (${name})`;
}

function errnoName(code: number): string | undefined {
  return Object.entries(constants.errno).find(([, value]) => value === code)?.[0];
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}
