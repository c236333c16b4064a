// A server on the Postgres store (`--postgres`): real Repo clients and a share with its viewer
// against it, data kept across a restart, and a document written through one node found through
// another node on the same database. The cluster is this file's own, as in postgres-store.test.ts.

import * as A from "@automerge/automerge";
import type { Repo } from "@automerge/automerge-repo";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createRepoClient, storeHasHeads, waitUntil, wsUrl } from "../helpers/automerge-clients.js";
import {
  postgresMissing,
  startTestPostgres,
  type TestPostgres,
} from "../helpers/postgres-server.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { call, openViewer, sessionItems, sessionOf, type TestViewer } from "../helpers/share.js";

const missing = postgresMissing("server on postgres");

type Items = { items: number[] };

describe.skipIf(missing !== undefined)("server on postgres", () => {
  let postgres: TestPostgres;
  const servers: TestServer[] = [];
  const repos: Repo[] = [];
  const viewers: TestViewer[] = [];
  beforeAll(async () => {
    postgres = await startTestPostgres();
  }, 60_000);
  afterAll(async () => {
    await postgres?.remove();
  });
  afterEach(async () => {
    for (const viewer of viewers.splice(0)) viewer.socket.terminate();
    await Promise.all(repos.splice(0).map((repo) => repo.shutdown().catch(() => {})));
    await Promise.all(servers.splice(0).map((server) => server.stop()));
  });

  const node = async (url: string) => {
    const server = await startTestServer({ postgres: url });
    servers.push(server);
    return server;
  };
  const client = (server: TestServer, name: string) => {
    const repo = createRepoClient(wsUrl(server.server.url), name);
    repos.push(repo);
    return repo;
  };

  it("reports the postgres driver in /healthz", async () => {
    const server = await node(await postgres.createDatabase());
    const health = await call(server.server.url, "GET", "/healthz");
    expect(health.status).toBe(200);
    expect(health.body.store).toMatchObject({ driver: "postgres", state: "open" });
    expect(JSON.stringify(health.body)).not.toContain("127.0.0.1");
  });

  it("is degraded while the database is unreachable, with the reason, and ok once it is back", async () => {
    const server = await node(await postgres.createDatabase());
    const base = server.server.url;
    await postgres.stop();
    try {
      // A share the server does not hold in memory: answering needs the database.
      const refused = await call(base, "GET", "/api/share/zzzz9999/data");
      expect(refused.status).toBe(503);
      const health = await call(base, "GET", "/healthz");
      expect(health.status).toBe(200);
      expect(health.body.status).toBe("degraded");
      expect(health.body.store).toMatchObject({ readable: false, lastError: "ERR_STORE_READ" });
      const metrics = await call(base, "GET", "/metrics");
      expect(metrics.text).toMatch(/^syncline_store_degraded 1$/m);
    } finally {
      await postgres.start();
    }
    expect((await call(base, "GET", "/api/share/zzzz9999/data")).status).toBe(404);
    const health = await call(base, "GET", "/healthz");
    expect(health.body.status).toBe("ok");
    expect(health.body.store.readable).toBeUndefined();
  }, 30_000);

  it("notices the database going away and coming back with no traffic at all (the probe)", async () => {
    const server = await startTestServer(
      { postgres: await postgres.createDatabase() },
      { storeProbeMs: 100 },
    );
    servers.push(server);
    const status = async () => (await call(server.server.url, "GET", "/healthz")).body;
    await postgres.stop();
    try {
      await waitUntil(async () => (await status()).status === "degraded", 10_000, "degraded");
      expect((await status()).store).toMatchObject({
        readable: false,
        lastError: "ERR_STORE_READ",
      });
    } finally {
      await postgres.start();
    }
    await waitUntil(async () => (await status()).status === "ok", 10_000, "ok again");
  }, 30_000);

  it("syncs a document and keeps it across a restart", async () => {
    const server = await node(await postgres.createDatabase());
    const alice = client(server, "alice");
    const handle = alice.create<Items>({ items: [1, 2] });
    handle.change((doc) => doc.items.push(3));
    await waitUntil(() =>
      storeHasHeads(server.server.store, handle.documentId, A.getHeads(handle.doc())),
    );
    await server.restart();
    const bob = client(server, "bob");
    const found = await bob.find<Items>(handle.url);
    expect(found.doc().items).toEqual([1, 2, 3]);
  });

  it("finds through a second node a document written through the first", async () => {
    const database = await postgres.createDatabase();
    const [first, second] = [await node(database), await node(database)];
    const alice = client(first, "alice");
    const handle = alice.create<Items>({ items: [7] });
    await waitUntil(() =>
      storeHasHeads(first.server.store, handle.documentId, A.getHeads(handle.doc())),
    );
    const bob = client(second, "bob");
    const found = await bob.find<Items>(handle.url);
    expect(found.doc().items).toEqual([7]);
  });

  it("publishes a share and serves its viewer, also after a restart", async () => {
    const server = await node(await postgres.createDatabase());
    const base = () => server.server.url;
    const id = "pgshare1";
    const sessionID = sessionOf(id);
    const created = await call(base(), "POST", "/api/share", { sessionID });
    expect(created.status).toBe(201);
    const secret = created.body.secret as string;
    const sync = await call(base(), "POST", `/api/share/${id}/sync`, {
      secret,
      data: sessionItems(sessionID, 2),
    });
    expect(sync.status).toBe(200);
    const viewer = await openViewer(base(), `id=${id}&v=2`);
    viewers.push(viewer);
    const frames = await viewer.waitFrames(5);
    expect(frames.map((frame) => frame.key).filter(Boolean)).toHaveLength(4);
    await server.restart();
    const again = await openViewer(base(), `id=${id}&v=2`);
    viewers.push(again);
    const reloaded = await again.waitFrames(5);
    expect(reloaded.slice(0, 4)).toEqual(frames.slice(0, 4));
  });
});
