// With `automerge_worker_threshold` 0 every document lives in a worker thread. Real Repo clients
// create many documents at once, so the server's worker rounds carry many small messages — each
// a Buffer cut from Node's shared pool — side by side: every document must become durable and be
// found by a fresh client. (Moving a pooled Buffer's memory to a worker once emptied the other
// messages cut from the same pool, and those documents never synced.)

import * as A from "@automerge/automerge";
import type { Repo } from "@automerge/automerge-repo";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createRepoClient, storeHasHeads, waitUntil, wsUrl } from "../helpers/automerge-clients.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

interface Items {
  items: number[];
}

let server: TestServer;
let repos: Repo[];

const client = (name: string) => {
  const repo = createRepoClient(wsUrl(server.server.url), name);
  repos.push(repo);
  return repo;
};

beforeEach(async () => {
  repos = [];
  server = await startTestServer({ automergeWorkerThreshold: 0, automergeWorkerThreads: 1 });
});

afterEach(async () => {
  await Promise.all(repos.map((repo) => repo.shutdown().catch(() => {})));
  await server.stop();
});

describe("every document in a worker thread", () => {
  it("syncs 100 documents created at once, and a fresh client finds them all", async () => {
    const alice = client("alice");
    const handles = Array.from({ length: 100 }, (_, i) => {
      const handle = alice.create<Items>({ items: [] });
      handle.change((doc) => doc.items.push(i));
      return handle;
    });
    await waitUntil(
      async () =>
        (
          await Promise.all(
            handles.map((h) =>
              storeHasHeads(server.server.store, h.documentId, A.getHeads(h.doc())),
            ),
          )
        ).every(Boolean),
      20_000,
      "100 documents on the server",
    );
    const bob = client("bob");
    const found = await Promise.all(handles.map((h) => bob.find<Items>(h.url)));
    expect(found.map((h) => h.doc().items[0])).toEqual(handles.map((_, i) => i));
  });
});
