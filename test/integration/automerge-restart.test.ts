// Reconnects and restarts with real Repo clients: data survives a server restart, and a client
// that lost its connection reconnects, re-joins and keeps syncing in both directions.

import * as A from "@automerge/automerge";
import type { Repo } from "@automerge/automerge-repo";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createRepoClient, storeHasHeads, waitUntil, wsUrl } from "../helpers/automerge-clients.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

type Items = { items: number[] };
let server: TestServer;
let repos: Repo[];

const client = (name: string) => {
  const repo = createRepoClient(wsUrl(server.server.url), name);
  repos.push(repo);
  return repo;
};

beforeEach(async () => {
  repos = [];
  server = await startTestServer();
});

afterEach(async () => {
  await Promise.all(repos.map((repo) => repo.shutdown().catch(() => {})));
  await server.stop();
});

describe("automerge reconnect and restart", () => {
  it("keeps documents across a restart and resumes live sync after reconnecting", async () => {
    const alice = client("alice");
    const handle = alice.create<Items>({ items: [1] });
    await waitUntil(() =>
      storeHasHeads(server.server.store, handle.documentId, A.getHeads(handle.doc())),
    );

    await server.restart();

    const bob = client("bob");
    const bobs = await bob.find<Items>(handle.url);
    expect(bobs.doc().items).toEqual([1]);
    // alice's adapter reconnects on its own (every 200 ms here) and joins again.
    handle.change((doc) => doc.items.push(2));
    await waitUntil(() => bobs.doc().items.includes(2), 15_000, "alice's change after reconnect");
    bobs.change((doc) => doc.items.push(3));
    await waitUntil(() => handle.doc().items.includes(3), 15_000, "bob's change at alice");
  });
});
