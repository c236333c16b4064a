// The Postgres store's schema and its versioned migrations. Every node runs `migrate` on start;
// a transaction-scoped advisory lock makes nodes starting at once take turns, so each migration
// runs exactly once and none sees a half-made schema.

import type { PoolClient } from "pg";
import { createError } from "../protocol/errors.js";

/** One schema step; applied in `version` order, each in the migrating transaction. */
interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/** The table of entries: keys encoded by store-key.ts, whose byte order bytea keeps. */
export const entriesTable = "syncline_entries";
/** Which migrations a database has had. */
export const migrationsTable = "syncline_migrations";

/**
 * Append only: a released migration never changes, a new one gets the next version. A database
 * migrated by a newer release is refused rather than written in a shape this one does not know.
 */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: "entries",
    // bytea compares as unsigned bytes (memcmp, then length), the order encodeKey relies on;
    // STORAGE EXTERNAL keeps large values uncompressed (Automerge chunks are compressed already).
    sql: `CREATE TABLE ${entriesTable} (
            key bytea PRIMARY KEY,
            value bytea NOT NULL
          );
          ALTER TABLE ${entriesTable} ALTER COLUMN value SET STORAGE EXTERNAL;`,
  },
];

/** The schema version this release writes. */
export const schemaVersion = Math.max(...migrations.map((m) => m.version));

/** An arbitrary constant naming syncline's migration lock among the database's advisory locks. */
const migrationLockId = 7_350_112_471;

/**
 * Brings the database to `schemaVersion` in one transaction; returns the migrations applied.
 * Throws ERR_STORE_OPEN when the database is newer than this release.
 */
export async function migrate(client: PoolClient): Promise<string[]> {
  await client.query("BEGIN");
  try {
    await client.query("SELECT pg_advisory_xact_lock($1)", [migrationLockId]);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${migrationsTable} (
         version integer PRIMARY KEY,
         name text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const result = await client.query<{ version: number | null }>(
      `SELECT max(version) AS version FROM ${migrationsTable}`,
    );
    const current = result.rows[0]?.version ?? 0;
    if (current > schemaVersion) {
      throw createError(
        "ERR_STORE_OPEN",
        `store: the Postgres schema is at version ${current}, newer than this release's ${schemaVersion}; run a release that knows it`,
      );
    }
    const applied: string[] = [];
    for (const migration of migrations.filter((m) => m.version > current)) {
      await client.query(migration.sql);
      await client.query(`INSERT INTO ${migrationsTable} (version, name) VALUES ($1, $2)`, [
        migration.version,
        migration.name,
      ]);
      applied.push(`${migration.version} ${migration.name}`);
    }
    await client.query("COMMIT");
    return applied;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  }
}
