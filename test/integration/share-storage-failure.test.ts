// A share write the store refuses: the sync is answered 503 (ERR_SHARE_STORAGE, nothing
// applied), viewers are closed with 1011, the share is reloaded from the store afterwards
// with its seq and items consistent, and /healthz says "degraded" until a write succeeds.
// Uses a memory store whose writes can be made to fail.

import { afterEach, describe, expect, it } from "vitest";
import { createError } from "../../src/protocol/errors.js";
import { createMemoryStore } from "../../src/storage/memory-store.js";
import type { Store } from "../../src/storage/store.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { call, openViewer, sessionOf } from "../helpers/share.js";

let test: TestServer | undefined;
afterEach(async () => {
  await test?.stop();
  test = undefined;
});

interface FailingStore extends Store {
  failWrites: boolean;
  /** A failing write rejects after this long (so other requests can arrive meanwhile), ms. */
  failDelayMs: number;
  failDeletes: boolean;
}

function failingStore(): FailingStore {
  const inner = createMemoryStore();
  const diskFull = () => createError("ERR_STORE_WRITE", "store: disk full (test)");
  const store = {
    failWrites: false,
    failDelayMs: 0,
    failDeletes: false,
    get: (key) => inner.get(key),
    range: (prefix, options) => inner.range(prefix, options),
    deletePrefix(prefix) {
      if (store.failDeletes) return Promise.reject(diskFull());
      return inner.deletePrefix(prefix);
    },
    close: () => inner.close(),
    status: () => inner.status(),
    write(ops) {
      if (store.failWrites) {
        const delay = store.failDelayMs;
        return new Promise<void>((_, reject) => setTimeout(() => reject(diskFull()), delay));
      }
      return inner.write(ops);
    },
  } as FailingStore;
  return store;
}

/** `promise`, or a rejection after `ms`. */
function within<T>(promise: Promise<T>, ms = 5000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not settled within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

describe("share storage failure", () => {
  it("answers 503, closes viewers with 1011, and recovers from the store", async () => {
    const store = failingStore();
    test = await startTestServer({}, { store });
    const base = test.server.url;
    const sessionID = sessionOf("failing1");
    const { secret } = (await call(base, "POST", "/api/share", { sessionID })).body;
    const part = (n: number) => ({
      type: "part",
      data: { id: `p${n}`, messageID: "m", sessionID, n },
    });
    const sync = (n: number) =>
      call(base, "POST", "/api/share/failing1/sync", { secret, data: [part(n)] });
    expect((await sync(1)).status).toBe(200);
    const viewer = await openViewer(base, "id=failing1");
    await viewer.waitFrames(1);

    store.failWrites = true;
    const failed = await sync(2);
    expect(failed.status).toBe(503);
    expect(failed.body.error.code).toBe("ERR_SHARE_STORAGE");
    expect(failed.body.error.message).toMatch(/disk full/);
    expect((await viewer.closed).code).toBe(1011);

    store.failWrites = false;
    const retried = await sync(2);
    expect(retried.status).toBe(200);
    expect(retried.body.seq).toBe(2);
    const data = await call(base, "GET", "/api/share/failing1/data");
    expect(data.body.map((item: { data: { n: number } }) => item.data.n)).toEqual([1, 2]);
    // Reloaded from the store: the log starts at the first write after the reload.
    const again = await openViewer(base, "id=failing1&since=1");
    expect((await again.waitFrames(1))[0]).toMatchObject({ seq: 2, content: { n: 2 } });
    const older = await openViewer(base, "id=failing1&since=0&v=2");
    expect((await older.waitFrames(3))[2]).toMatchObject({ type: "state", seq: 2 });
    again.socket.terminate();
    older.socket.terminate();
  });

  it("answers 503 to a sync whose equal write was in flight when that write fails", async () => {
    const store = failingStore();
    test = await startTestServer({}, { store });
    const base = test.server.url;
    const sessionID = sessionOf("failing2");
    const { secret } = (await call(base, "POST", "/api/share", { sessionID })).body;
    const item = { type: "part", data: { id: "p1", messageID: "m", sessionID, n: 1 } };
    const sync = () => call(base, "POST", "/api/share/failing2/sync", { secret, data: [item] });

    // The first sync's write is in flight while the second (same content, nothing new) arrives.
    store.failWrites = true;
    store.failDelayMs = 300;
    const answers = await Promise.all([sync(), sync()]);
    expect(answers.map((answer) => answer.status)).toEqual([503, 503]);
    for (const answer of answers) expect(answer.body.error.code).toBe("ERR_SHARE_STORAGE");

    store.failWrites = false;
    const data = await call(base, "GET", "/api/share/failing2/data");
    expect(data.status).toBe(200);
    expect(data.body).toEqual([]);
    expect(data.headers.get("x-share-seq")).toBe("0");
    const retried = await sync();
    expect(retried.status).toBe(200);
    expect(retried.body).toMatchObject({ seq: 1, written: 1 });
  });

  it("reports degraded health (200) and metrics while writes fail, ok once one succeeds", async () => {
    const store = failingStore();
    test = await startTestServer({}, { store });
    const base = test.server.url;
    const sessionID = sessionOf("failing4");
    const { secret } = (await call(base, "POST", "/api/share", { sessionID })).body;
    const sync = (n: number) =>
      call(base, "POST", "/api/share/failing4/sync", {
        secret,
        data: [{ type: "part", data: { id: `p${n}`, messageID: "m", sessionID, n } }],
      });
    const metric = async (name: string) => {
      const lines = (await call(base, "GET", "/metrics")).text.split("\n");
      return Number(
        lines
          .find((line) => line.startsWith(name))
          ?.split(" ")
          .pop(),
      );
    };
    expect((await call(base, "GET", "/healthz")).body.status).toBe("ok");

    store.failWrites = true;
    expect((await sync(1)).status).toBe(503);
    store.failDeletes = true;
    expect((await call(base, "DELETE", "/api/share/failing4", { secret })).status).toBe(503);
    const degraded = await call(base, "GET", "/healthz");
    expect(degraded.status).toBe(200);
    expect(degraded.body).toMatchObject({
      status: "degraded",
      store: { state: "open", writable: false, lastError: "ERR_STORE_WRITE" },
    });
    expect(Number.isNaN(Date.parse(degraded.body.store.failingSince))).toBe(false);
    expect(await metric("syncline_store_degraded")).toBe(1);
    // The sync's write, and the tombstone the delete writes beside its deletePrefix.
    expect(await metric('syncline_store_write_failures_total{operation="write"}')).toBe(2);
    expect(await metric('syncline_store_write_failures_total{operation="deletePrefix"}')).toBe(1);
    // Reads are served meanwhile.
    expect((await call(base, "GET", "/api/share/failing4/data")).status).toBe(200);

    store.failWrites = false;
    expect((await sync(2)).status).toBe(200);
    const healthy = await call(base, "GET", "/healthz");
    expect(healthy.body).toMatchObject({ status: "ok", store: { writable: true } });
    expect(healthy.body.store.lastError).toBeUndefined();
    expect(await metric("syncline_store_degraded")).toBe(0);
  });

  it("keeps a share whose delete failed: 503, then it syncs, reads and deletes again", async () => {
    const store = failingStore();
    test = await startTestServer({}, { store });
    const base = test.server.url;
    const sessionID = sessionOf("failing3");
    const { secret } = (await call(base, "POST", "/api/share", { sessionID })).body;
    const part = (n: number) => ({
      type: "part",
      data: { id: `p${n}`, messageID: "m", sessionID, n },
    });
    const sync = (n: number) =>
      call(base, "POST", "/api/share/failing3/sync", { secret, data: [part(n)] });
    expect((await sync(1)).status).toBe(200);
    const viewer = await openViewer(base, "id=failing3");
    await viewer.waitFrames(1);

    store.failDeletes = true;
    const failed = await call(base, "DELETE", "/api/share/failing3", { secret });
    expect(failed.status).toBe(503);
    expect(failed.body.error.code).toBe("ERR_SHARE_STORAGE");
    expect(failed.body.error.message).toMatch(/disk full/);

    store.failDeletes = false;
    const synced = await sync(2);
    expect(synced.status).toBe(200);
    expect(synced.body.seq).toBe(2);
    const data = await call(base, "GET", "/api/share/failing3/data");
    expect(data.status).toBe(200);
    expect(data.body.map((item: { data: { n: number } }) => item.data.n)).toEqual([1, 2]);
    // Not deleted: viewers were told to reconnect, not that the share is gone.
    expect((await within(viewer.closed)).code).toBe(1011);
    const again = await openViewer(base, "id=failing3&v=2");
    expect((await again.waitFrames(3))[2]).toMatchObject({ type: "state", seq: 2 });

    const deleted = await call(base, "DELETE", "/api/share/failing3", { secret });
    expect(deleted.status).toBe(200);
    expect((await within(again.closed)).code).toBe(4410);
    expect((await call(base, "GET", "/api/share/failing3/data")).status).toBe(410);
    expect((await sync(3)).status).toBe(410);
  });
});
