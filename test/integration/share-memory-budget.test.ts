// The memory budget of loaded shares (share_memory_budget). Through the hub on a memory store (a
// driver, so not beside the hub): idle shares leave memory least recently used first to make
// room, shares with viewers or writes in flight never do, a request that cannot get room is
// refused 503 with nothing applied, a delete never is, and a share evicted between its load and
// its use is loaded again. Then over HTTP and the viewer WebSocket of a real server.

import { afterEach, describe, expect, it } from "vitest";
import { ShareHub } from "../../src/share/share-hub.js";
import { createMemoryStore } from "../../src/storage/memory-store.js";
import type { Store } from "../../src/storage/store.js";
import { httpGet } from "../helpers/http.js";
import { recordingViewer } from "../helpers/recording-viewer.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { call, openViewer, sessionOf, type TestViewer } from "../helpers/share.js";

const settings = {
  shareMaxItemBytes: 1 << 20,
  shareMaxBytes: 4096,
  shareMemoryBudget: 10_000,
  shareViewerMaxBufferedBytes: 1 << 20,
  shareViewerFlushMs: 0,
  shareCatchupFrames: 100,
  shareCatchupBytes: 1 << 20,
  shareIdleEvictMs: 60_000,
  shareTotalMaxBytes: 0,
  shareExpireAfterMs: 0,
  shareTombstoneMs: 0,
  shareTombstoneMax: 0,
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A part item of `sessionID` whose content is exactly `bytes` bytes of JSON. */
function part(sessionID: string, id: string, bytes: number) {
  const data = { id, messageID: "m", sessionID, text: "" };
  data.text = "x".repeat(bytes - JSON.stringify(data).length);
  expect(JSON.stringify(data).length).toBe(bytes);
  return { type: "part", data };
}

/**
 * A memory store that records which shares it loads (their items are read by one range) and
 * holds the writes of the shares in `held` until `release()`.
 */
function testStore() {
  const inner = createMemoryStore();
  const loads: string[] = [];
  const held = new Set<string>();
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const store: Store = {
    get: (key) => inner.get(key),
    range: (prefix, options) => {
      if (prefix[2] === "item") loads.push(String(prefix[1]));
      return inner.range(prefix, options);
    },
    write: (ops) =>
      ops.some((op) => held.has(String(op.key[1])))
        ? gate.then(() => inner.write(ops))
        : inner.write(ops),
    deletePrefix: (prefix) => inner.deletePrefix(prefix),
    close: () => inner.close(),
    status: () => inner.status(),
  };
  return { store, loads, held, release: () => release() };
}

let hub: ShareHub | undefined;
let server: TestServer | undefined;
const viewers: TestViewer[] = [];
afterEach(async () => {
  for (const viewer of viewers.splice(0)) viewer.socket.terminate();
  await hub?.close();
  hub = undefined;
  await server?.stop();
  server = undefined;
});

/** Creates the share of session `ses_test_<id>` holding one part of `bytes` bytes. */
async function filled(target: ShareHub, id: string, bytes: number) {
  const sessionID = sessionOf(id);
  const { secret } = await target.create(sessionID);
  if (bytes > 0) await target.sync(id, secret, [part(sessionID, "p1", bytes)]);
  await sleep(2); // distinct last-use times
  return { id, sessionID, secret };
}

describe("ShareHub memory budget", () => {
  it("evicts idle shares least recently used first to make room, and reports the total", async () => {
    const { store, loads } = testStore();
    const totals: number[] = [];
    let evicted = 0;
    hub = new ShareHub({
      store,
      settings,
      observer: { loadedBytes: (bytes) => totals.push(bytes), shareEvicted: () => evicted++ },
    });
    await filled(hub, "budget0a", 3000);
    const b = await filled(hub, "budget0b", 3000);
    await filled(hub, "budget0c", 3000);
    expect(hub.loadedBytes).toBe(9000);

    // d's 3000 bytes do not fit beside 9000: a, the least recently used, leaves memory.
    const d = await filled(hub, "budget0d", 0);
    await hub.read(b.id); // b is now used more recently than c
    await sleep(2);
    expect((await hub.sync(d.id, d.secret, [part(d.sessionID, "p1", 3000)])).seq).toBe(1);
    expect(evicted).toBe(1);
    expect(hub.loadedShares).toBe(3);
    expect(hub.loadedBytes).toBe(9000);
    expect(totals.at(-1)).toBe(9000);

    // Reading a brings it back from the store and evicts c (b was read after it).
    loads.length = 0;
    expect((await hub.read("budget0a")).items).toHaveLength(1);
    await hub.read(b.id);
    await hub.read(d.id);
    expect(loads).toEqual(["budget0a"]);
    await hub.read("budget0c");
    expect(loads).toEqual(["budget0a", "budget0c"]);
    expect(hub.loadedBytes).toBe(9000);
  });

  it("never evicts a share with viewers or writes in flight; refuses 503 when nothing can leave", async () => {
    const { store, loads, held, release } = testStore();
    hub = new ShareHub({ store, settings });
    const a = await filled(hub, "budget1a", 3000);
    const b = await filled(hub, "budget1b", 3000);
    await filled(hub, "budget1c", 3000);
    const d = await filled(hub, "budget1d", 0);
    const viewer = recordingViewer();
    await hub.attach(a.id, viewer.socket);
    held.add(b.id);
    const growing = hub.sync(b.id, b.secret, [part(b.sessionID, "p1", 3500)]); // in flight
    await sleep(5);
    expect(hub.loadedBytes).toBe(9500);

    // 4000 more need 3500 freed; only c (3000) may leave: nothing is evicted, the sync refused.
    const refused = hub.sync(d.id, d.secret, [part(d.sessionID, "p1", 4000)]);
    await expect(refused).rejects.toMatchObject({ code: "ERR_SHARE_MEMORY_BUDGET", status: 503 });
    await expect(refused).rejects.toThrow(
      `share sync: share "budget1d" needs 4000 more bytes of content in memory, but loaded shares hold 9500 of the server's budget of 10000 bytes (share_memory_budget) and the shares that could leave memory would not make room; nothing was applied, retry later`,
    );
    expect(hub.loadedShares).toBe(4);
    expect((await hub.read(d.id)).items).toEqual([]);

    // Once b's write is durable b may leave too: c then b go, a (a viewer) stays.
    release();
    expect((await growing).seq).toBe(2);
    expect((await hub.sync(d.id, d.secret, [part(d.sessionID, "p1", 4000)])).seq).toBe(1);
    expect(hub.loadedShares).toBe(2);
    expect(hub.loadedBytes).toBe(7000);
    loads.length = 0;
    await hub.read(a.id);
    await hub.read(d.id);
    expect(loads).toEqual([]); // both still in memory
  });

  it("keeps a share in memory while an HTTP reader is streamed its state", async () => {
    const { store, loads } = testStore();
    hub = new ShareHub({ store, settings });
    const a = await filled(hub, "budget5a", 3000);
    await filled(hub, "budget5b", 3000);
    await filled(hub, "budget5c", 3000);
    const d = await filled(hub, "budget5d", 0);
    // a (least recently used) is being read: the bytes its reader is sent are its content's.
    const body = await hub.readBody(a.id, "data");
    expect(JSON.parse(Buffer.concat([...body.units()].flat()).toString())).toHaveLength(1);
    await sleep(2);
    await hub.read("budget5b");
    await hub.read("budget5c");
    // 3000 more for d: a may not leave while it is read, so b (then least recently used) does.
    expect((await hub.sync(d.id, d.secret, [part(d.sessionID, "p1", 3000)])).seq).toBe(1);
    expect(hub.loadedBytes).toBe(9000);
    loads.length = 0;
    expect((await hub.read(a.id)).items).toHaveLength(1);
    expect(loads).toEqual([]); // still in memory
    body.finished();
    body.finished(); // once is enough
    await sleep(2);
    await hub.read("budget5c");
    await hub.read(d.id);
    // Read no more and the least recently used, a leaves to make room for b.
    await hub.read("budget5b");
    await hub.read(a.id);
    expect(loads).toEqual(["budget5b", "budget5a"]);
  });

  it("refuses a load that finds no room (read, viewer) but never a delete", async () => {
    const { store, loads } = testStore();
    const first = new ShareHub({ store, settings });
    const d = await filled(first, "budget2d", 3000);
    await first.close();
    hub = new ShareHub({ store, settings });
    for (const id of ["budget2a", "budget2b", "budget2c"]) {
      await filled(hub, id, 3000);
      await hub.attach(id, recordingViewer().socket);
    }
    loads.length = 0;
    await expect(hub.read(d.id)).rejects.toMatchObject({ code: "ERR_SHARE_MEMORY_BUDGET" });
    await expect(hub.read(d.id)).rejects.toThrow(
      /^share load: share "budget2d" needs 3000 more bytes .* hold 9000 of the server's budget of 10000 bytes/,
    );
    await expect(hub.exists(d.id)).rejects.toMatchObject({ code: "ERR_SHARE_MEMORY_BUDGET" });
    const viewer = recordingViewer();
    await expect(hub.attach(d.id, viewer.socket)).rejects.toMatchObject({ status: 503 });
    expect(hub.loadedBytes).toBe(9000);

    // A wrong secret is refused before the share is loaded; the owner's delete goes through.
    loads.length = 0;
    await expect(hub.remove(d.id, "wrong")).rejects.toMatchObject({ code: "ERR_SHARE_SECRET" });
    expect(loads).toEqual([]);
    await hub.remove(d.id, d.secret);
    expect(hub.loadedBytes).toBe(9000);
    await expect(hub.read(d.id)).rejects.toMatchObject({ code: "ERR_SHARE_NOT_FOUND" });
  });

  it("loads a share again when it was evicted between its load and its use", async () => {
    const { store } = testStore();
    const first = new ShareHub({ store, settings });
    const a = await filled(first, "budget3a", 3000);
    await filled(first, "budget3b", 3000);
    await first.close();
    hub = new ShareHub({ store, settings: { ...settings, shareMemoryBudget: 4096 } });

    // Loaded together: b's load evicts a (idle: its viewer is not attached yet).
    const viewer = recordingViewer();
    const [detach] = await Promise.all([hub.attach(a.id, viewer.socket), hub.read("budget3b")]);
    expect(detach).toBeTypeOf("function");
    expect(viewer.frames).toHaveLength(1); // the full state: its one key

    // The viewer sees a's next write: it is attached to the copy in memory.
    await hub.sync(a.id, a.secret, [part(a.sessionID, "p2", 100)]);
    await sleep(5);
    expect(viewer.frames.map((frame) => frame.seq)).toEqual([undefined, 2]);
  });
});

describe("share memory budget over HTTP", () => {
  it("answers 503 ERR_SHARE_MEMORY_BUDGET to a sync or a viewer that finds no room", async () => {
    server = await startTestServer({ shareMaxBytes: 4096, shareMemoryBudget: 8192 });
    const base = server.server.url;
    const secrets = new Map<string, string>();
    const sync = (id: string, bytes: number) =>
      call(base, "POST", `/api/share/${id}/sync`, {
        secret: secrets.get(id),
        data: [part(sessionOf(id), "p1", bytes)],
      });
    for (const id of ["budget4a", "budget4b", "budget4c"]) {
      const created = await call(base, "POST", "/api/share", { sessionID: sessionOf(id) });
      secrets.set(id, created.body.secret);
    }
    expect((await sync("budget4a", 3000)).status).toBe(200);
    expect((await sync("budget4b", 3000)).status).toBe(200);
    const viewerA = await openViewer(base, "id=budget4a");
    viewers.push(viewerA, await openViewer(base, "id=budget4b"));
    await viewerA.waitFrames(1);

    const refused = await sync("budget4c", 3000);
    expect(refused.status).toBe(503);
    expect(refused.headers.get("cache-control")).toBe("no-store");
    expect(refused.body.error.code).toBe("ERR_SHARE_MEMORY_BUDGET");
    expect(refused.body.error.message).toBe(
      `share sync: share "budget4c" needs 3000 more bytes of content in memory, but loaded shares hold 6000 of the server's budget of 8192 bytes (share_memory_budget) and the shares that could leave memory would not make room; nothing was applied, retry later`,
    );
    const metrics = await httpGet(`${base}/metrics`);
    expect(metrics.body).toContain("syncline_share_loaded_bytes 6000");

    // a's viewer leaves: a may leave memory, and c's sync takes its room.
    viewerA.socket.close();
    await viewerA.closed;
    await sleep(20);
    expect((await sync("budget4c", 3000)).status).toBe(200);
    expect((await httpGet(`${base}/metrics`)).body).toContain("syncline_share_loaded_bytes 6000");

    // b and c have viewers now: a viewer of a (not loaded) is refused before the upgrade.
    viewers.push(await openViewer(base, "id=budget4c"));
    await expect(openViewer(base, "id=budget4a")).rejects.toMatchObject({ status: 503 });
  });
});
