// The share client library against a real server: the viewer client (initial state, live order,
// reconnect with catch-up after a server restart, delete) and the publisher queue (delivery,
// 401 and 410, an oversized item refused alone in a 200).

import { afterEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import type { UpdateFrame } from "../../src/protocol/share-frames.js";
import type { ShareItem } from "../../src/protocol/share-items.js";
import { createShareHttp } from "../../src/share/client/share-http.js";
import { createShareQueue } from "../../src/share/client/share-queue.js";
import type { ShareCredentials } from "../../src/share/client/share-queue-options.js";
import { createViewerClient } from "../../src/share/client/viewer-client.js";
import type {
  ViewerClient,
  ViewerSocketConstructor,
  ViewerStatus,
} from "../../src/share/client/viewer-client-api.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

let test: TestServer | undefined;
const clients: ViewerClient[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await test?.stop();
  test = undefined;
});

const sessionID = "ses_clientAAAA";

function part(n: number, text = `t${n}`): ShareItem {
  return { type: "part", data: { id: `prt_${n}`, messageID: "msg_1", sessionID, text } };
}

async function setup(overrides = {}) {
  test = await startTestServer(overrides);
  const base = test.server.url;
  const http = createShareHttp({ server: base });
  const share = await http.create(sessionID);
  const sync = async (items: ShareItem[]) => {
    const outcome = await http.sync(share.id, share.secret, items);
    expect(outcome.kind).toBe("ok");
    return outcome;
  };
  return { base, http, share, sync };
}

function watch(base: string, id: string) {
  const client = createViewerClient({
    server: base,
    id,
    WebSocket: WebSocket as unknown as ViewerSocketConstructor,
    backoff: { initialMs: 300, maxMs: 300 },
    random: () => 1,
  });
  clients.push(client);
  const statuses: ViewerStatus[] = [];
  const updates: UpdateFrame[] = [];
  const snapshots: Array<{ keys: string[]; seq: number }> = [];
  const urls: string[] = [];
  client.on("status", (status) => {
    statuses.push(status);
    if (status === "connecting" || status === "reconnecting") urls.push(client.url);
  });
  client.on("update", (frame) => updates.push(frame));
  client.on("snapshot", (state, seq) => snapshots.push({ keys: [...state.keys()].sort(), seq }));
  client.connect();
  return { client, statuses, updates, snapshots, urls };
}

async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("viewer client against a real server", () => {
  it("initial state, then live updates in order", async () => {
    const { base, share, sync } = await setup();
    await sync([{ type: "session", data: { id: sessionID, title: "t" } }, part(1)]);
    const viewer = watch(base, share.id);
    await until(() => viewer.client.status === "live", "live");
    expect(viewer.snapshots).toEqual([
      {
        keys: [`session/info/${sessionID}`, `session/part/${sessionID}/msg_1/prt_1`],
        seq: 2,
      },
    ]);
    await sync([part(2)]);
    await sync([part(3), part(2, "again")]);
    await until(() => viewer.updates.length === 3, "3 updates");
    expect(viewer.updates.map((u) => [u.seq, (u.content as { text: string }).text])).toEqual([
      [3, "t2"],
      // One request's writes go out in key order (a message before its parts).
      [4, "again"],
      [5, "t3"],
    ]);
    expect(viewer.client.seq).toBe(5);
    expect(
      (viewer.client.state.get(`session/part/${sessionID}/msg_1/prt_2`) as { text: string }).text,
    ).toBe("again");
  });

  it("reconnects after a server restart and catches up with since, without a new snapshot", async () => {
    const { base, share, sync } = await setup();
    await sync([part(1)]);
    const viewer = watch(base, share.id);
    await until(() => viewer.client.status === "live", "live");
    await (test as TestServer).restart();
    await until(() => viewer.statuses.includes("reconnecting"), "reconnecting");
    // Written after the restart, before the viewer's 300 ms reconnect: it must catch these up.
    await sync([part(2)]);
    await sync([part(3)]);
    await until(() => viewer.updates.length === 2, "2 catch-up updates");
    // The epoch survives the restart (it is stored): same share, so catch-up, no snapshot.
    expect(viewer.urls.at(-1)).toMatch(/[?&]since=1&epoch=[A-Za-z0-9_-]{16}&v=2$/);
    expect(viewer.snapshots).toHaveLength(1);
    expect(viewer.updates.map((u) => u.seq)).toEqual([2, 3]);
    await until(() => viewer.client.status === "live", "live again");
    await sync([part(4)]);
    await until(() => viewer.updates.length === 3, "a live update after the reconnect");
    expect(viewer.client.seq).toBe(4);
  });

  it("delete → status deleted, and no reconnection", async () => {
    const { base, http, share, sync } = await setup();
    await sync([part(1)]);
    const viewer = watch(base, share.id);
    await until(() => viewer.client.status === "live", "live");
    await http.remove(share.id, share.secret);
    await until(() => viewer.client.status === "deleted", "deleted");
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(viewer.statuses).toEqual(["connecting", "live", "deleted"]);
  });

  it("an unknown share → status not-found", async () => {
    const { base } = await setup();
    const viewer = watch(base, "nothere1");
    await until(() => viewer.client.status === "not-found", "not-found");
  });
});

describe("publisher queue against a real server", () => {
  function queueFor(base: string, credentials: ShareCredentials | undefined) {
    const records = new Map<string, ShareCredentials>();
    if (credentials) records.set(sessionID, credentials);
    const events: string[] = [];
    const queue = createShareQueue({
      http: createShareHttp({ server: base }),
      records: { get: (s) => records.get(s), remove: (s) => void records.delete(s) },
      windowMs: 50,
    });
    queue.on("synced", (e) => events.push(`synced ${e.keys.length}`));
    queue.on("rejected", (e) => events.push(`rejected ${e.status} ${e.items.map((i) => i.key)}`));
    queue.on("unauthorized", () => events.push("unauthorized"));
    queue.on("not-found", () => events.push("not-found"));
    return { queue, events, records };
  }

  it("delivers the latest value of each key in one request", async () => {
    const { base, http, share } = await setup();
    const { queue, events } = queueFor(base, share);
    for (let i = 0; i < 50; i++) queue.sync(sessionID, [part(1, `v${i}`), part(2, `w${i}`)]);
    await expect(queue.close()).resolves.toEqual({ delivered: true, undelivered: [] });
    expect(events).toEqual(["synced 2"]);
    const data = (await fetch(`${http.baseUrl}/api/share/${share.id}/data`).then((r) =>
      r.json(),
    )) as ShareItem[];
    expect(data.map((item: ShareItem) => (item.data as { text: string }).text).sort()).toEqual([
      "v49",
      "w49",
    ]);
  });

  it("keeps a batch while the server is down and delivers it after the restart", async () => {
    const { base, http, share } = await setup();
    const records = new Map([[sessionID, share]]);
    const events: string[] = [];
    const queue = createShareQueue({
      http: createShareHttp({ server: base }),
      records: { get: (s) => records.get(s), remove: () => {} },
      windowMs: 50,
      backoff: { initialMs: 100, maxMs: 200 },
    });
    queue.on("retry", (e) => events.push(`retry ${e.status ?? "network"}`));
    queue.on("synced", (e) => events.push(`synced ${e.keys.length}`));
    await (test as TestServer).halt();
    queue.sync(sessionID, [part(1, "old"), part(2)]);
    await until(() => events.length >= 2, "two failed attempts");
    queue.sync(sessionID, [part(1, "new")]);
    await (test as TestServer).restart();
    await until(() => events.includes("synced 2"), "delivery after the restart");
    expect(events.filter((e) => e.startsWith("retry")).length).toBeGreaterThanOrEqual(2);
    expect(events.every((e) => e === "retry network" || e === "synced 2")).toBe(true);
    const data = (await fetch(`${http.baseUrl}/api/share/${share.id}/data`).then((r) =>
      r.json(),
    )) as ShareItem[];
    expect(data.map((item) => (item.data as { text: string }).text).sort()).toEqual(["new", "t2"]);
    await queue.close();
  });

  it("a wrong secret (401) clears the record; a deleted share (410) stops", async () => {
    const { base, http, share } = await setup();
    const wrong = queueFor(base, { id: share.id, secret: "not-the-secret" });
    wrong.queue.sync(sessionID, [part(1)]);
    await wrong.queue.close();
    expect(wrong.events).toEqual(["unauthorized"]);
    expect(wrong.records.size).toBe(0);
    await http.remove(share.id, share.secret);
    const gone = queueFor(base, share);
    gone.queue.sync(sessionID, [part(1)]);
    await gone.queue.close();
    expect(gone.events).toEqual(["not-found"]);
  });

  it("one oversized item is refused alone: the batch is a success naming it, not retried", async () => {
    const { base, http, share } = await setup({ shareMaxItemBytes: 1024 });
    const { queue, events } = queueFor(base, share);
    const refused: unknown[] = [];
    queue.on("synced", (e) => refused.push(...e.ignored));
    queue.sync(sessionID, [part(1), part(2, "x".repeat(2000)), part(3)]);
    await expect(queue.close()).resolves.toMatchObject({ delivered: true });
    expect(events).toEqual(["synced 3"]);
    expect(refused).toEqual([
      expect.objectContaining({
        key: `session/part/${sessionID}/msg_1/prt_2`,
        code: "ERR_SHARE_TOO_LARGE",
        reason: expect.stringMatching(/more than the limit of 1024/),
      }),
    ]);
    const data = (await fetch(`${http.baseUrl}/api/share/${share.id}/data`).then((r) =>
      r.json(),
    )) as ShareItem[];
    expect(data).toHaveLength(2);
  });
});
