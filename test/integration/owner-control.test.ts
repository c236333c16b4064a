// An open server stays under its owner's control: a token to create shares, a storage quota
// over all shares, expiry of shares nobody writes, an admin API that deletes a share or a
// document without its secret, and /metrics behind a token or on a listener of its own.

import * as A from "@automerge/automerge";
import { afterEach, describe, expect, it } from "vitest";
import type { ServerConfig } from "../../src/server/config.js";
import { generateDocumentId } from "../../src/util/ids.js";
import { openWireClient, syncUntilAcknowledged } from "../helpers/automerge-wire.js";
import { metricValue } from "../helpers/loopback.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { call, openViewer, sessionItems, sessionOf } from "../helpers/share.js";

let test: TestServer | undefined;

afterEach(async () => {
  await test?.stop();
  test = undefined;
});

async function serve(overrides: Partial<ServerConfig>): Promise<string> {
  test = await startTestServer(overrides);
  return test.server.url;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function authorized(
  base: string,
  method: string,
  path: string,
  token?: string,
  body?: unknown,
) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text === "" ? undefined : JSON.parse(text) };
}

async function createShare(base: string, id: string) {
  const created = await call(base, "POST", "/api/share", { sessionID: sessionOf(id) });
  expect(created.status).toBe(201);
  return created.body as { id: string; secret: string };
}

describe("share-create token", () => {
  it("creates shares only for requests that carry it as a bearer token", async () => {
    const base = await serve({ shareCreateToken: "create-me" });
    const body = { sessionID: sessionOf("tokened1") };
    const none = await authorized(base, "POST", "/api/share", undefined, body);
    expect([none.status, none.body.error.code]).toEqual([401, "ERR_UNAUTHORIZED"]);
    expect((await authorized(base, "POST", "/api/share", "wrong", body)).status).toBe(401);
    expect((await authorized(base, "POST", "/share_create", "wrong", body)).status).toBe(401);
    expect((await authorized(base, "POST", "/api/share", "create-me", body)).status).toBe(201);
    const legacy = { sessionID: sessionOf("tokened2") };
    expect((await authorized(base, "POST", "/share_create", "create-me", legacy)).status).toBe(201);
  });
});

describe("storage quota over all shares", () => {
  it("refuses growth past the quota with 507, takes it again once space is freed, across restarts", async () => {
    const base = await serve({ shareTotalMaxBytes: 2048 });
    const a = await createShare(base, "quotaaaa");
    const b = await createShare(base, "quotabbb");
    const big = (text: string) => sessionItems(sessionOf("quotaaaa"), 1, text.repeat(700));
    const first = await call(base, "POST", `/api/share/${a.id}/sync`, {
      secret: a.secret,
      data: big("a"),
    });
    expect(first.status).toBe(200);
    const bItems = sessionItems(sessionOf("quotabbb"), 1, "b".repeat(1200));
    const refused = await call(base, "POST", `/api/share/${b.id}/sync`, {
      secret: b.secret,
      data: bItems,
    });
    expect(refused.status).toBe(507);
    expect(refused.body.error.code).toBe("ERR_SHARE_QUOTA");
    expect((await call(base, "GET", `/api/share/${b.id}/data`)).body).toEqual([]);
    // Still refused after a restart: the usage is read back from the store.
    await test?.restart();
    // fetch's pooled connection to the stopped server may fail once; that is not under test.
    await call(base, "GET", "/healthz").catch(() => undefined);
    const again = await call(base, "POST", `/api/share/${b.id}/sync`, {
      secret: b.secret,
      data: bItems,
    });
    expect(again.status).toBe(507);
    expect(await call(base, "DELETE", `/api/share/${a.id}`, { secret: a.secret })).toMatchObject({
      status: 200,
    });
    const taken = await call(base, "POST", `/api/share/${b.id}/sync`, {
      secret: b.secret,
      data: bItems,
    });
    expect(taken.status).toBe(200);
    const metrics = await call(base, "GET", "/metrics");
    expect(metricValue(metrics.text, "syncline_share_stored_bytes")).toBeGreaterThan(1200);
  });
});

describe("share expiry", () => {
  it("deletes a share not written within the TTL, telling its viewers as a delete does", async () => {
    const base = await serve({ shareExpireAfterMs: 600 });
    const idle = await createShare(base, "expiring");
    const busy = await createShare(base, "keptbusy");
    const viewer = await openViewer(base, `id=${idle.id}`);
    const keepWriting = setInterval(() => {
      void call(base, "POST", `/api/share/${busy.id}/sync`, {
        secret: busy.secret,
        data: sessionItems(sessionOf("keptbusy"), 1, String(Date.now())),
      });
    }, 150);
    try {
      const closed = await Promise.race([viewer.closed, sleep(3000).then(() => undefined)]);
      expect(closed?.code).toBe(4410);
    } finally {
      clearInterval(keepWriting);
    }
    expect((await call(base, "GET", `/api/share/${idle.id}/data`)).status).toBe(410);
    expect((await call(base, "GET", `/api/share/${busy.id}/data`)).status).toBe(200);
    const metrics = await call(base, "GET", "/metrics");
    expect(metricValue(metrics.text, "syncline_share_expired_total")).toBe(1);
  });
});

describe("admin API", () => {
  it("is off (403) without --admin-token", async () => {
    const base = await serve({});
    const answer = await authorized(base, "DELETE", "/admin/share/abcdefgh", "anything");
    expect([answer.status, answer.body.error.code]).toEqual([403, "ERR_ADMIN_DISABLED"]);
  });

  it("deletes a share without its secret; viewers are closed 4410", async () => {
    const base = await serve({ adminToken: "owner" });
    const share = await createShare(base, "adminsha");
    const viewer = await openViewer(base, `id=${share.id}`);
    expect((await authorized(base, "DELETE", `/admin/share/${share.id}`)).status).toBe(401);
    expect((await authorized(base, "DELETE", `/admin/share/${share.id}`, "nope")).status).toBe(401);
    const deleted = await authorized(base, "DELETE", `/admin/share/${share.id}`, "owner");
    expect(deleted).toEqual({ status: 200, body: { id: share.id, deleted: true } });
    expect((await viewer.closed).code).toBe(4410);
    expect((await call(base, "GET", `/api/share/${share.id}/data`)).status).toBe(410);
    const again = await authorized(base, "DELETE", `/admin/share/${share.id}`, "owner");
    expect([again.status, again.body.error.code]).toEqual([410, "ERR_SHARE_DELETED"]);
  });

  it("deletes an automerge document: its peers are closed 4410 and the store forgets it", async () => {
    const base = await serve({ adminToken: "owner" });
    const ws = base.replace(/^http/, "ws");
    const documentId = generateDocumentId();
    const doc = A.change(A.init<{ text: string }>(), (d) => {
      d.text = "to be deleted";
    });
    const writer = await openWireClient(`${ws}/`);
    await writer.join("writer");
    await syncUntilAcknowledged(writer, "writer", documentId, doc);
    const deleted = await authorized(base, "DELETE", `/admin/document/${documentId}`, "owner");
    expect(deleted).toEqual({ status: 200, body: { documentId, deleted: true } });
    expect(await writer.closed).toBe(4410);
    const reader = await openWireClient(`${ws}/`);
    await reader.join("reader");
    const [, request] = A.generateSyncMessage(A.init(), A.initSyncState());
    reader.send({
      type: "request",
      senderId: "reader",
      targetId: "server",
      documentId,
      data: request as Uint8Array,
    });
    const answer = await reader.next((m) => m.type === "doc-unavailable" || m.type === "sync");
    expect(answer.type).toBe("doc-unavailable");
    reader.close();
    const missing = await authorized(base, "DELETE", `/admin/document/${documentId}`, "owner");
    expect([missing.status, missing.body.error.code]).toEqual([404, "ERR_NOT_FOUND"]);
    const invalid = await authorized(base, "DELETE", "/admin/document/nope", "owner");
    expect([invalid.status, invalid.body.error.code]).toEqual([400, "ERR_INVALID_DOCUMENT_ID"]);
  });
});

describe("/metrics", () => {
  it("needs its bearer token when one is set", async () => {
    const base = await serve({ metricsToken: "scrape" });
    expect((await authorized(base, "GET", "/metrics")).status).toBe(401);
    const response = await fetch(`${base}/metrics`, {
      headers: { authorization: "Bearer scrape" },
    });
    expect(response.status).toBe(200);
    expect(await response.text()).toContain("syncline_connections");
  });

  it("is served only on its own listener with --metrics-listen", async () => {
    const base = await serve({ metricsListen: "127.0.0.1:0" });
    expect((await call(base, "GET", "/metrics")).status).toBe(404);
    const url = test?.server.metricsUrl as string;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const scraped = await fetch(`${url}/metrics`);
    expect(scraped.status).toBe(200);
    expect((await fetch(`${url}/healthz`)).status).toBe(404);
  });
});
