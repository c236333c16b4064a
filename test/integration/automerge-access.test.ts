// Optional token access control on the automerge endpoint: refused with HTTP 401 before the
// upgrade without the token or with a wrong one; real Repo clients sync with `?token=`.

import * as A from "@automerge/automerge";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createRepoClient, storeHasHeads, waitUntil, wsUrl } from "../helpers/automerge-clients.js";
import { openWireClient } from "../helpers/automerge-wire.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

let server: TestServer;

beforeEach(async () => {
  server = await startTestServer({ automergeToken: "open sesame" });
});

afterEach(async () => {
  await server.stop();
});

describe("automerge token", () => {
  it("refuses an upgrade without a token with HTTP 401", async () => {
    await expect(openWireClient(wsUrl(server.server.url))).rejects.toMatchObject({ status: 401 });
  });

  it("refuses a wrong token with HTTP 401", async () => {
    const url = wsUrl(server.server.url, "/?token=open%20sesame!");
    await expect(openWireClient(url)).rejects.toMatchObject({ status: 401 });
  });

  it("lets a Repo client with the right token sync", async () => {
    const repo = createRepoClient(wsUrl(server.server.url, "/?token=open%20sesame"), "alice");
    try {
      const handle = repo.create<{ n: number }>({ n: 1 });
      const heads = A.getHeads(handle.doc());
      await waitUntil(() => storeHasHeads(server.server.store, handle.documentId, heads));
    } finally {
      await repo.shutdown().catch(() => {});
    }
  });
});
