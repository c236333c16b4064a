// Automerge across two nodes sharing a real Postgres and a real Redis, with real automerge-repo
// clients: a document created through one node is found through the other, live changes and
// ephemeral messages cross, concurrent edits through both nodes converge in the store, a change
// made while Redis is down arrives once it is back, and an admin delete closes peers on both.

import * as A from "@automerge/automerge";
import { type DocHandle, Repo } from "@automerge/automerge-repo";
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createRepoClient, storeHasHeads, waitUntil, wsUrl } from "../helpers/automerge-clients.js";
import {
  postgresMissing,
  startTestPostgres,
  type TestPostgres,
} from "../helpers/postgres-server.js";
import { redisMissing, startRedis, type TestRedis } from "../helpers/redis-server.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

interface Items {
  items: string[];
}

const pgMissing = postgresMissing("automerge across nodes");
const missing = pgMissing ?? redisMissing;
if (redisMissing && process.env.CI) {
  describe("automerge across nodes", () => {
    it("has redis-server (required under CI=true)", () => {
      throw new Error(redisMissing);
    });
  });
}

describe.skipIf(missing !== undefined)("automerge across nodes", () => {
  let postgres: TestPostgres;
  let redis: TestRedis;
  let nodes: TestServer[] = [];
  let repos: Repo[] = [];
  const adminToken = "a".repeat(32);

  beforeAll(async () => {
    postgres = await startTestPostgres();
    redis = await startRedis();
    const database = await postgres.createDatabase();
    const config = { postgres: database, redis: redis.url, adminToken };
    nodes = [await startTestServer(config), await startTestServer(config)];
  }, 60_000);

  afterEach(async () => {
    await Promise.all(repos.map((repo) => repo.shutdown().catch(() => {})));
    repos = [];
  });

  afterAll(async () => {
    await Promise.all(nodes.map((node) => node.stop()));
    await redis?.stop();
    await postgres?.remove();
  });

  const server = (i: number) => (nodes[i] as TestServer).server;
  const client = (node: number, name: string, retryIntervalMs?: number) => {
    const repo = createRepoClient(wsUrl(server(node).url), name, retryIntervalMs);
    repos.push(repo);
    return repo;
  };
  const has = (items: () => string[], item: string) => () => items().includes(item);

  it("finds through node B a document created through node A, and changes cross both ways live", async () => {
    const alice = client(0, "alice");
    const handle = alice.create<Items>({ items: ["a0"] });
    await waitUntil(
      () => storeHasHeads(server(0).store, handle.documentId, A.getHeads(handle.doc())),
      10_000,
      "the document stored",
    );
    const bob = client(1, "bob");
    const bobs = await bob.find<Items>(handle.url);
    expect(bobs.doc().items).toEqual(["a0"]);
    for (let i = 1; i <= 5; i++) {
      handle.change((doc) => doc.items.push(`a${i}`));
      await waitUntil(
        has(() => bobs.doc().items, `a${i}`),
        10_000,
        `a${i} at bob (node B)`,
      );
      bobs.change((doc) => doc.items.push(`b${i}`));
      await waitUntil(
        has(() => handle.doc().items, `b${i}`),
        10_000,
        `b${i} at alice (node A)`,
      );
    }
  });

  it("converges concurrent edits through both nodes, every change in the store", async () => {
    const alice = client(0, "alice");
    const handle = alice.create<Items>({ items: [] });
    const bob = client(1, "bob");
    await waitUntil(
      () => storeHasHeads(server(0).store, handle.documentId, A.getHeads(handle.doc())),
      10_000,
      "the document stored",
    );
    const bobs = await bob.find<Items>(handle.url);
    for (let i = 0; i < 40; i++) {
      handle.change((doc) => doc.items.push(`a${i}`));
      bobs.change((doc) => doc.items.push(`b${i}`));
    }
    const all = (items: string[]) => items.length === 80;
    await waitUntil(() => all(handle.doc().items) && all(bobs.doc().items), 20_000, "80 items");
    expect(A.getHeads(handle.doc()).sort()).toEqual(A.getHeads(bobs.doc()).sort());
    // Both nodes wrote chunks of one document (and may have compacted): the store has them all.
    await waitUntil(
      () => storeHasHeads(server(1).store, handle.documentId, A.getHeads(handle.doc())),
      10_000,
      "every change stored",
    );
  });

  it("tells a peer of node B that was told unavailable once the document is written through node A", async () => {
    // Alice writes offline; Bob asks node B first and is told the document is unavailable.
    const alice = new Repo({ network: [], sharePolicy: async () => true });
    repos.push(alice);
    const authored = alice.create<Items>({ items: [] });
    authored.change((doc) => doc.items.push("seven"));
    const bob = client(1, "bob");
    await expect(bob.find<Items>(authored.url)).rejects.toThrow(/unavailable/);
    const bobs = bob.handles[authored.documentId] as DocHandle<Items>;
    // Alice comes online through node A: Bob's handle gets the document without asking again.
    alice.networkSubsystem.addNetworkAdapter(new WebSocketClientAdapter(wsUrl(server(0).url)));
    await waitUntil(
      () => bobs.isReady() && bobs.doc()?.items?.[0] === "seven",
      10_000,
      "Bob's handle on node B holding Alice's document",
    );
  });

  it("relays ephemeral messages to a peer on the other node", async () => {
    const alice = client(0, "alice");
    const handle = alice.create<Items>({ items: ["x"] });
    await waitUntil(
      () => storeHasHeads(server(0).store, handle.documentId, A.getHeads(handle.doc())),
      10_000,
      "the document stored",
    );
    const bobs = await client(1, "bob").find<Items>(handle.url);
    const received: unknown[] = [];
    bobs.on("ephemeral-message", ({ message }) => received.push(message));
    await waitUntil(
      () => {
        handle.broadcast({ cursor: 7 });
        return received.length > 0;
      },
      10_000,
      "an ephemeral message at bob",
    );
    expect(received[0]).toEqual({ cursor: 7 });
  });

  it("brings a change made while Redis was down to the other node's peer once it is back", async () => {
    const alice = client(0, "alice");
    const handle = alice.create<Items>({ items: ["start"] });
    await waitUntil(
      () => storeHasHeads(server(0).store, handle.documentId, A.getHeads(handle.doc())),
      10_000,
      "the document stored",
    );
    const bobs = await client(1, "bob").find<Items>(handle.url);
    await redis.stop();
    handle.change((doc) => doc.items.push("during the outage"));
    await waitUntil(
      () => storeHasHeads(server(0).store, handle.documentId, A.getHeads(handle.doc())),
      10_000,
      "the change stored",
    );
    await redis.restart();
    await waitUntil(
      has(() => bobs.doc().items, "during the outage"),
      20_000,
      "the change at bob",
    );
  }, 40_000);

  it("closes the document's peers on both nodes when it is deleted through one", async () => {
    // Clients that still hold the document push it again once they reconnect, a new document
    // then; these wait a minute first, so that the store is seen without it.
    const alice = client(0, "alice", 60_000);
    const handle = alice.create<Items>({ items: ["doomed"] });
    await waitUntil(
      () => storeHasHeads(server(0).store, handle.documentId, A.getHeads(handle.doc())),
      10_000,
      "the document stored",
    );
    await client(1, "bob", 60_000).find<Items>(handle.url);
    const metric = async (i: number) =>
      (await server(i).metrics.registry.getSingleMetric("syncline_automerge_peers")?.get())
        ?.values[0]?.value ?? 0;
    expect(await metric(1)).toBeGreaterThan(0);
    const response = await fetch(`${server(0).url}/admin/document/${handle.documentId}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${adminToken}` },
    });
    expect(response.status).toBe(200);
    // Both clients' sockets were closed (4410); their adapters reconnect as new peers later.
    await waitUntil(async () => (await metric(1)) === 0, 5000, "bob's socket closed on node B");
    await waitUntil(async () => (await metric(0)) === 0, 5000, "alice's socket closed on node A");
    expect(await storeHasHeads(server(1).store, handle.documentId, [])).toBe(false);
  });
});
