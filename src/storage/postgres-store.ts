// The shared Store on Postgres (node-postgres), for several nodes on one database: entries in
// one bytea-keyed table, writes of one event turn in one transaction, each acknowledged once
// committed. With Postgres's default `synchronous_commit = on` a commit returns after its WAL is
// flushed to disk, so an acknowledged write survives a crash of the database server too.

import pg from "pg";
import { createError, describeError } from "../protocol/errors.js";
import { pagedScan, type ScanPage } from "./paged-scan.js";
import { entriesTable, migrate } from "./postgres-schema.js";
import { statementsOf, type WriteStep } from "./postgres-write-steps.js";
import type { RangeOptions, Store, StoreEntry, StoreKey, StoreOp, StoreStatus } from "./store.js";
import { conflictError, type EncodedExpect, encodeBatch, expectationHolds } from "./store-batch.js";
import { type ByteRange, decodeKey, encodeKey, prefixRangeBounds } from "./store-key.js";

/** Options of the Postgres store. */
export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/database?sslmode=…` (libpq's URL form). */
  readonly url: string;
  /** Connections at most. Default 10. */
  readonly poolSize?: number;
  /** How long to wait for a connection, ms; then the call fails. Default 5000. */
  readonly connectTimeoutMs?: number;
  /** How long one statement may take, ms; then it fails (a hung database never hangs a client). Default 30000. */
  readonly queryTimeoutMs?: number;
  /** Errors of idle connections (the database restarted), which no call is waiting on. */
  readonly onError?: (error: Error) => void;
}

/** Entries read per query in a scan. */
const scanPageSize = 256;

/** The URL with its password masked, for messages and logs. */
export function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(a URL that cannot be parsed)";
  }
}

/**
 * Connects, migrates the schema (see postgres-schema.ts) and returns the store. Rejects with
 * ERR_STORE_OPEN when the database cannot be reached, refuses the login, or is newer.
 */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<Store> {
  const { url, poolSize = 10, connectTimeoutMs = 5000, queryTimeoutMs = 30_000 } = options;
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    connectionTimeoutMillis: connectTimeoutMs,
    query_timeout: queryTimeoutMs,
    statement_timeout: queryTimeoutMs,
    application_name: "syncline",
  });
  // An idle connection's error (the server restarted) is emitted here; without a listener it
  // would be thrown as an uncaught exception. The pool replaces the connection on next use.
  pool.on("error", (error) => options.onError?.(error));
  let client: pg.PoolClient | undefined;
  try {
    client = await pool.connect();
    await migrate(client);
  } catch (error) {
    client?.release(true);
    client = undefined;
    await pool.end().catch(() => {});
    if ((error as { code?: string }).code === "ERR_STORE_OPEN") throw error;
    throw createError(
      "ERR_STORE_OPEN",
      `store: cannot open Postgres at ${redactedUrl(url)}: ${describeError(error)}`,
      { cause: error },
    );
  } finally {
    client?.release();
  }
  return new PostgresStore(pool);
}

/** Writes waiting for the next group transaction. */
interface QueuedWrite {
  readonly step: WriteStep;
  readonly what: string;
  resolve(): void;
  reject(error: unknown): void;
}

class PostgresStore implements Store {
  readonly #pool: pg.Pool;
  #state: StoreStatus["state"] = "open";
  /** Writes of this turn, committed together once the turn ends. */
  #queued: QueuedWrite[] = [];
  /** The group transaction running now; the next one starts after it (call order holds). */
  #running: Promise<void> | undefined;
  #closing: Promise<void> | undefined;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async get(key: StoreKey): Promise<Uint8Array | undefined> {
    this.#assertOpen();
    const encoded = encodeKey(key);
    const result = await this.#read(`SELECT value FROM ${entriesTable} WHERE key = $1`, [encoded]);
    const row = result.rows[0] as { value: Buffer } | undefined;
    return row === undefined ? undefined : new Uint8Array(row.value);
  }

  write(ops: readonly StoreOp[]): Promise<void> {
    try {
      this.#assertOpen();
      const batch = encodeBatch(ops);
      if (batch.ops.length === 0 && batch.expects.length === 0) return Promise.resolve();
      return this.#enqueue({ type: "ops", ops: batch.ops, expects: batch.expects }, "write");
    } catch (error) {
      return Promise.reject(error);
    }
  }

  range(prefix: StoreKey, options: RangeOptions = {}): AsyncIterable<StoreEntry> {
    return pagedScan(
      prefix,
      options,
      scanPageSize,
      (bounds, reverse, after, limit) => this.#readPage(bounds, reverse, after, limit),
      () => this.#assertOpen(),
    );
  }

  deletePrefix(prefix: StoreKey): Promise<void> {
    try {
      this.#assertOpen();
      if (prefix.length === 0) {
        throw createError("ERR_INVALID_STORE_KEY", "store: deletePrefix needs a non-empty prefix");
      }
      return this.#enqueue(
        { type: "deletePrefix", range: prefixRangeBounds(prefix) },
        "deletePrefix",
      );
    } catch (error) {
      return Promise.reject(error);
    }
  }

  async probe(): Promise<void> {
    this.#assertOpen();
    await this.#read("SELECT 1", []);
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  status(): StoreStatus {
    return { driver: "postgres", state: this.#state };
  }

  #enqueue(step: WriteStep, what: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#queued.push({ step, what, resolve, reject });
      // The first write of a turn schedules the group; the others of the turn join it.
      if (this.#queued.length === 1 && this.#running === undefined)
        setImmediate(() => this.#drain());
    });
  }

  /** Commits the queued writes as groups, one transaction after another, until none is left. */
  #drain(): void {
    if (this.#running !== undefined || this.#queued.length === 0) return;
    const group = this.#queued;
    this.#queued = [];
    this.#running = this.#commit(group).finally(() => {
      this.#running = undefined;
      this.#drain();
    });
  }

  /** One transaction for `group`: all of it commits, or none of it and every write rejects. */
  async #commit(group: QueuedWrite[]): Promise<void> {
    let client: pg.PoolClient | undefined;
    let committing = false;
    let conflicts = new Map<QueuedWrite, Error>();
    try {
      client = await this.#pool.connect();
      // The pool listens for errors of idle connections only: one that breaks while checked out
      // here (the database shut down between two statements) would otherwise be an uncaught
      // exception. The statement in flight rejects with it anyway.
      client.on("error", ignoreCheckedOutError);
      await client.query("BEGIN");
      conflicts = await applyGroup(client, group);
      committing = true;
      await client.query("COMMIT");
    } catch (error) {
      await client?.query("ROLLBACK").catch(() => {});
      // A connection that failed mid-transaction is not given back to the pool (its error
      // listener stays: the broken socket may still report).
      client?.release(true);
      client = undefined;
      for (const write of group) write.reject(this.#writeError(write.what, error, committing));
      return;
    } finally {
      client?.removeListener("error", ignoreCheckedOutError);
      client?.release();
    }
    for (const write of group) {
      const conflict = conflicts.get(write);
      if (conflict === undefined) write.resolve();
      else write.reject(conflict);
    }
  }

  async #readPage(
    bounds: ByteRange,
    reverse: boolean,
    after: Buffer | undefined,
    limit: number,
  ): Promise<ScanPage> {
    const where: string[] = [];
    const values: unknown[] = [];
    const bound = (sql: string, value: Buffer) => {
      values.push(value);
      where.push(`key ${sql} $${values.length}`);
    };
    if (bounds.start.length > 0) bound(">=", bounds.start);
    if (bounds.end !== undefined) bound("<", bounds.end);
    if (after !== undefined) bound(reverse ? "<" : ">", after);
    values.push(limit);
    const text = `SELECT key, value FROM ${entriesTable}
      ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""}
      ORDER BY key ${reverse ? "DESC" : "ASC"} LIMIT $${values.length}`;
    const rows = (await this.#read(text, values)).rows as { key: Buffer; value: Buffer }[];
    return {
      entries: rows.map((row) => ({ key: decodeKey(row.key), value: new Uint8Array(row.value) })),
      lastKey: rows.at(-1)?.key,
    };
  }

  async #read(text: string, values: unknown[]): Promise<pg.QueryResult> {
    try {
      return await this.#pool.query(text, values);
    } catch (error) {
      if (this.#state !== "open") throw this.#closedError();
      throw createError("ERR_STORE_READ", `store: Postgres read failed: ${describeError(error)}`, {
        cause: error,
      });
    }
  }

  async #close(): Promise<void> {
    this.#state = "closed";
    // Writes already made are committed first (they were accepted while open).
    while (this.#running !== undefined || this.#queued.length > 0) {
      this.#drain();
      await this.#running?.catch(() => {});
    }
    await this.#pool.end();
  }

  #assertOpen(): void {
    if (this.#state !== "open") throw this.#closedError();
  }

  #closedError() {
    return createError("ERR_STORE_CLOSED", "store: the Postgres store is closed");
  }

  /**
   * A failed write. Nothing of it was applied, except when the connection failed during COMMIT
   * itself: then the database may have committed without our hearing it, as with any database.
   * Either way it was never acknowledged, and every write here is an idempotent put or delete.
   */
  #writeError(what: string, error: unknown, committing: boolean) {
    const outcome = committing
      ? "the database may or may not have committed it (the failure came during COMMIT)"
      : "nothing of it applied";
    return createError(
      "ERR_STORE_WRITE",
      `store: Postgres ${what} failed, ${outcome}: ${describeError(error)}`,
      { cause: error },
    );
  }
}

/**
 * Runs `group`'s statements in the open transaction, in call order. Runs of unconditional writes
 * share statements; a write with conditions first takes a lock per expected key (another node's
 * transaction on them waits for this one's end) and reads them, and is skipped when one does
 * not hold. Returns the writes refused that way, with their errors.
 */
async function applyGroup(
  client: pg.PoolClient,
  group: readonly QueuedWrite[],
): Promise<Map<QueuedWrite, Error>> {
  const conflicts = new Map<QueuedWrite, Error>();
  let run: WriteStep[] = [];
  const flush = async () => {
    for (const statement of statementsOf(run)) await client.query(statement.text, statement.values);
    run = [];
  };
  for (const write of group) {
    const { step } = write;
    if (step.type !== "ops" || step.expects === undefined || step.expects.length === 0) {
      run.push(step);
      continue;
    }
    await flush();
    const conflict = await checkExpectations(client, step.expects);
    if (conflict !== undefined) conflicts.set(write, conflict);
    else run.push(step);
  }
  await flush();
  return conflicts;
}

/** Locks the expected keys and returns the conflict of the first that does not hold, if any. */
async function checkExpectations(
  client: pg.PoolClient,
  expects: readonly EncodedExpect[],
): Promise<Error | undefined> {
  const keys = expects.map((expect) => expect.key);
  // Row locks cannot hold a key that has no row yet; a transaction-scoped advisory lock per key
  // (in key order, so two nodes never deadlock) serializes those too.
  await client.query(
    "SELECT pg_advisory_xact_lock(hashtextextended(encode(k, 'base64'), 0)) FROM unnest($1::bytea[]) AS k ORDER BY k",
    [keys],
  );
  const result = await client.query(
    `SELECT key, value FROM ${entriesTable} WHERE key = ANY($1::bytea[])`,
    [keys],
  );
  const rows = new Map<string, Buffer>();
  for (const row of result.rows as { key: Buffer; value: Buffer }[]) {
    rows.set(row.key.toString("latin1"), row.value);
  }
  for (const expect of expects) {
    const current = rows.get(expect.key.toString("latin1"));
    if (!expectationHolds(expect, current)) return conflictError(expect, current);
  }
  return undefined;
}

/** See #commit: what a broken checked-out connection reports, its statement reports too. */
function ignoreCheckedOutError(): void {}
