// The Postgres driver against the shared conformance suite, on a throwaway cluster this file
// starts, plus what only it has: migrations (two nodes starting at once, a newer schema
// refused), an unreachable database, and the database restarting under it.

import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrationsTable, schemaVersion } from "../../src/storage/postgres-schema.js";
import { openPostgresStore, redactedUrl } from "../../src/storage/postgres-store.js";
import { runStoreTests } from "../../src/storage/testing/run-store-tests.js";
import { freePort } from "../helpers/free-port.js";
import {
  postgresMissing,
  startTestPostgres,
  type TestPostgres,
} from "../helpers/postgres-server.js";

const missing = postgresMissing("postgres store");

const codeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: { code?: string }) => error.code,
  );

describe.skipIf(missing !== undefined)("postgres store", () => {
  let server: TestPostgres;
  beforeAll(async () => {
    server = await startTestPostgres();
  }, 60_000);
  afterAll(async () => {
    await server?.remove();
  });

  runStoreTests("postgres", async () => {
    const url = await server.createDatabase();
    return {
      store: await openPostgresStore({ url }),
      reopen: () => openPostgresStore({ url }),
    };
  });

  it("migrates once when several nodes start on an empty database at once", async () => {
    const url = await server.createDatabase();
    const stores = await Promise.all(Array.from({ length: 4 }, () => openPostgresStore({ url })));
    await stores[0]?.write([{ type: "put", key: ["k"], value: new Uint8Array([1]) }]);
    expect(await stores[3]?.get(["k"])).toEqual(new Uint8Array([1]));
    await Promise.all(stores.map((store) => store.close()));
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const rows = (await client.query(`SELECT version FROM ${migrationsTable} ORDER BY version`))
      .rows;
    await client.end();
    expect(rows.map((row) => row.version)).toEqual(
      Array.from({ length: schemaVersion }, (_, i) => i + 1),
    );
  });

  it("refuses a database migrated by a newer release, with ERR_STORE_OPEN", async () => {
    const url = await server.createDatabase();
    await (await openPostgresStore({ url })).close();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(`INSERT INTO ${migrationsTable} (version, name) VALUES ($1, 'future')`, [
      schemaVersion + 1,
    ]);
    await client.end();
    const error = await openPostgresStore({ url }).catch((e: Error & { code?: string }) => e);
    expect((error as { code?: string }).code).toBe("ERR_STORE_OPEN");
    expect((error as Error).message).toMatch(/newer than this release/);
  });

  it("fails to open an unreachable database promptly, naming it without the password", async () => {
    const port = await freePort();
    const url = `postgres://someone:s3cret-pw@127.0.0.1:${port}/nothing`;
    const started = Date.now();
    const error = (await openPostgresStore({ url, connectTimeoutMs: 1000 }).catch(
      (e: unknown) => e,
    )) as Error & { code?: string };
    expect(error.code).toBe("ERR_STORE_OPEN");
    expect(error.message).toContain(`127.0.0.1:${port}`);
    expect(error.message).not.toContain("s3cret-pw");
    expect(Date.now() - started).toBeLessThan(5000);
    expect(redactedUrl(url)).toBe(`postgres://someone:***@127.0.0.1:${port}/nothing`);
  });

  it("fails calls clearly while the database is down and works again once it is back", async () => {
    const url = await server.createDatabase();
    const errors: Error[] = [];
    const store = await openPostgresStore({
      url,
      connectTimeoutMs: 1000,
      onError: (error) => errors.push(error),
    });
    try {
      await store.write([{ type: "put", key: ["before"], value: new Uint8Array([1]) }]);
      await server.stop();
      expect(await codeOf(store.get(["before"]))).toBe("ERR_STORE_READ");
      expect(
        await codeOf(store.write([{ type: "put", key: ["during"], value: new Uint8Array([2]) }])),
      ).toBe("ERR_STORE_WRITE");
      await server.start();
      // The pool drops the dead connections and makes new ones.
      await store.write([{ type: "put", key: ["after"], value: new Uint8Array([3]) }]);
      expect(await store.get(["before"])).toEqual(new Uint8Array([1]));
      expect(await store.get(["during"])).toBeUndefined();
      expect(await store.get(["after"])).toEqual(new Uint8Array([3]));
    } finally {
      await server.start().catch(() => {}); // running again already, unless an assertion failed
      await store.close();
    }
  }, 60_000);

  it("commits the writes of one turn together, and each call's atomically", async () => {
    const url = await server.createDatabase();
    const store = await openPostgresStore({ url });
    try {
      const many = Array.from({ length: 50 }, (_, i) =>
        store.write([
          { type: "put", key: ["g", String(i).padStart(2, "0")], value: new Uint8Array([i]) },
          { type: "delete", key: ["g", "none"] },
        ]),
      );
      await Promise.all(many);
      const keys: string[] = [];
      for await (const entry of store.range(["g"])) keys.push(entry.key[1] as string);
      expect(keys).toHaveLength(50);
    } finally {
      await store.close();
    }
  });
});
