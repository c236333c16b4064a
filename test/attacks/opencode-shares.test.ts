// Attacks on what the OpenCode drop-in opened, each against a real server on loopback:
// - cross-origin use: the share API allows any origin, so a page elsewhere could try the admin
//   API, the metrics or the automerge endpoint from a victim's browser; none of those may answer
//   with CORS headers, and a preflight on them (or on an unknown path) is refused as before.
// - tombstones: a client creating and deleting shares in a loop leaves one tombstone per id; they
//   must stay within `share_tombstone_max` (memory and store alike) and expire after
//   `share_tombstone_ms`.

import { afterEach, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { call } from "../helpers/share.js";

let test: TestServer | undefined;
afterEach(async () => {
  await test?.stop();
  test = undefined;
});

const origin = { origin: "https://attacker.example" };

describe("cross-origin requests outside the share API", () => {
  it("get no CORS headers from /admin, /metrics, /healthz or automerge paths", async () => {
    test = await startTestServer({ adminToken: "owner-token" });
    const base = test.server.url;
    const requests: [string, string][] = [
      ["DELETE", "/admin/share/abcdefgh"],
      ["DELETE", "/admin/document/abcdefgh"],
      ["GET", "/metrics"],
      ["GET", "/healthz"],
      ["GET", "/"],
      ["GET", "/some/automerge/path"],
    ];
    for (const [method, path] of requests) {
      const answer = await fetch(`${base}${path}`, {
        method,
        headers: { ...origin, authorization: "Bearer owner-token" },
      });
      expect(answer.headers.get("access-control-allow-origin"), `${method} ${path}`).toBeNull();
      expect(answer.headers.get("access-control-allow-credentials")).toBeNull();
    }
  });

  it("refuse a preflight as before: 405 on admin routes, 404 on unknown paths, no CORS", async () => {
    test = await startTestServer({ adminToken: "owner-token" });
    const base = test.server.url;
    const preflight = (path: string) =>
      fetch(`${base}${path}`, {
        method: "OPTIONS",
        headers: { ...origin, "access-control-request-method": "DELETE" },
      });
    const admin = await preflight("/admin/share/abcdefgh");
    expect(admin.status).toBe(405);
    expect(admin.headers.get("access-control-allow-origin")).toBeNull();
    const metrics = await preflight("/metrics");
    expect(metrics.status).toBe(405);
    expect(metrics.headers.get("access-control-allow-origin")).toBeNull();
    const unknown = await preflight("/api/nothing/here");
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get("access-control-allow-origin")).toBeNull();
    // The share API itself never allows credentials.
    const share = await preflight("/api/share/abcdefgh");
    expect(share.status).toBe(204);
    expect(share.headers.get("access-control-allow-credentials")).toBeNull();
  });
});

describe("a client creating and deleting shares in a loop", () => {
  /** Creates and deletes `count` shares; returns their ids, oldest first. */
  async function churn(base: string, count: number, prefix: string): Promise<string[]> {
    const ids: string[] = [];
    for (let n = 0; n < count; n++) {
      const sessionID = `ses_churn_${prefix}${String(n).padStart(5, "0")}`;
      const created = await call(base, "POST", "/api/share", { sessionID });
      expect(created.status).toBe(201);
      const { id, secret } = created.body;
      expect((await call(base, "DELETE", `/api/share/${id}`, { secret })).status).toBe(200);
      ids.push(id);
    }
    return ids;
  }

  async function storedTombstones(server: TestServer): Promise<number> {
    let count = 0;
    for await (const _ of server.server.store.range(["share-tombstone"])) count++;
    return count;
  }

  it("leaves at most share_tombstone_max tombstones, in memory and in the store", async () => {
    const max = 25;
    test = await startTestServer({
      shareTombstoneMax: max,
      rateShareCreateBurst: 10_000,
      rateShareCreatePerMinute: 10_000,
    });
    const base = test.server.url;
    const ids = await churn(base, 300, "a");
    expect(await storedTombstones(test)).toBe(max);
    const metrics = await call(base, "GET", "/metrics");
    expect(metrics.text).toMatch(new RegExp(`^syncline_share_tombstones ${max}$`, "m"));
    // The newest are still told apart from never-created ones; the oldest were let go.
    const newest = await call(base, "GET", `/api/share/${ids.at(-1)}/data`);
    expect(newest.status).toBe(410);
    const oldest = await call(base, "GET", `/api/share/${ids[0]}/data`);
    expect(oldest.status).toBe(404);
    // And after a restart the bound holds for what is read back.
    await test.restart();
    expect(await storedTombstones(test)).toBe(max);
    // (A pooled connection to the server before the restart may fail once: then a new one.)
    const read = () => call(base, "GET", `/api/share/${ids.at(-1)}/data`);
    expect((await read().catch(read)).status).toBe(410);
  });

  it("forgets tombstones after share_tombstone_ms", async () => {
    test = await startTestServer({
      shareTombstoneMs: 300,
      rateShareCreateBurst: 10_000,
      rateShareCreatePerMinute: 10_000,
    });
    const base = test.server.url;
    const [first] = await churn(base, 20, "b");
    expect((await call(base, "GET", `/api/share/${first}/data`)).status).toBe(410);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect((await call(base, "GET", `/api/share/${first}/data`)).status).toBe(404);
    // The next delete sweeps the expired ones out of the store too.
    await churn(base, 1, "c");
    expect(await storedTombstones(test)).toBe(1);
  });
});
