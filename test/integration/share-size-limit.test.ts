// The per-share size limit (share_max_bytes): the JSON bytes of all of a share's content. Through
// the hub on a memory store (concurrent writes in flight, reload, delete + re-create; a driver, so
// not beside the hub) and through HTTP with a small limit in the server config.

import { afterEach, describe, expect, it } from "vitest";
import { ShareHub } from "../../src/share/share-hub.js";
import { createMemoryStore } from "../../src/storage/memory-store.js";
import type { Store } from "../../src/storage/store.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { call, sessionOf } from "../helpers/share.js";

const maxShareBytes = 4096;

/** A part item of `sessionID` whose content is exactly `bytes` bytes of JSON. */
function part(sessionID: string, id: string, bytes: number) {
  const data = { id, messageID: "m", sessionID, text: "" };
  data.text = "x".repeat(bytes - JSON.stringify(data).length);
  expect(JSON.stringify(data).length).toBe(bytes);
  return { type: "part", data };
}

const settings = {
  shareMaxItemBytes: 1 << 20,
  shareMaxBytes: maxShareBytes,
  shareViewerMaxBufferedBytes: 1 << 20,
  shareViewerFlushMs: 0,
  shareCatchupFrames: 100,
  shareCatchupBytes: 1 << 20,
  shareIdleEvictMs: 60_000,
  shareMemoryBudget: 2 ** 40, // no budget to speak of
  shareTotalMaxBytes: 0,
  shareExpireAfterMs: 0,
  shareTombstoneMs: 0,
  shareTombstoneMax: 0,
};

let hub: ShareHub | undefined;
let server: TestServer | undefined;
afterEach(async () => {
  await hub?.close();
  hub = undefined;
  await server?.stop();
  server = undefined;
});

describe("ShareHub share size limit", () => {
  it("counts writes in flight, reloaded content and nothing of a deleted share", async () => {
    const inner = createMemoryStore();
    let hold: Promise<void> | undefined;
    const store: Store = {
      get: (key) => inner.get(key),
      range: (prefix, options) => inner.range(prefix, options),
      write: (ops) => (hold ?? Promise.resolve()).then(() => inner.write(ops)),
      deletePrefix: (prefix) => inner.deletePrefix(prefix),
      close: () => inner.close(),
      status: () => inner.status(),
    };
    hub = new ShareHub({ store, settings });
    const sessionID = "ses_test_sizecap1";
    const { id, secret } = await hub.create(sessionID);

    // Two concurrent syncs, each within the limit alone: the second is planned against the
    // first one in flight and refused.
    let release: () => void = () => {};
    hold = new Promise((resolve) => {
      release = resolve;
    });
    const first = hub.sync(id, secret, [part(sessionID, "p1", 3000)]);
    const second = hub.sync(id, secret, [part(sessionID, "p2", 2000)]);
    await expect(second).rejects.toMatchObject({ code: "ERR_SHARE_TOO_LARGE", status: 413 });
    await expect(second).rejects.toThrow(
      `share "${id}" holds 3000 bytes of content JSON (counting writes in flight); this request would add 2000, more than the limit of 4096`,
    );
    hold = undefined;
    release();
    expect((await first).seq).toBe(1);
    expect((await hub.read(id)).items.map((stored) => stored.key)).toEqual([
      `session/part/${sessionID}/m/p1`,
    ]);

    // Reloaded from the store: its size is counted again.
    await hub.close();
    hub = new ShareHub({ store, settings });
    await expect(hub.sync(id, secret, [part(sessionID, "p2", 2000)])).rejects.toThrow(
      /holds 3000 bytes .* would add 2000/,
    );
    expect((await hub.sync(id, secret, [part(sessionID, "p2", 1000)])).seq).toBe(2);

    // Deleted and created again: the old content counts for nothing.
    await hub.remove(id, secret);
    const again = await hub.create(sessionID);
    expect((await hub.sync(id, again.secret, [part(sessionID, "q1", 4000)])).seq).toBe(1);
  });
});

describe("POST /api/share/:id/sync share size limit", () => {
  it("fills to the limit, refuses more (nothing applied), lets a smaller value replace", async () => {
    server = await startTestServer({ shareMaxBytes: maxShareBytes });
    const base = server.server.url;
    const id = "sizecap2";
    const sessionID = sessionOf(id);
    const created = await call(base, "POST", "/api/share", { sessionID });
    expect(created.status).toBe(201);
    const secret = created.body.secret as string;
    const sync = (data: unknown[]) => call(base, "POST", `/api/share/${id}/sync`, { secret, data });

    const filled = await sync([part(sessionID, "p1", 3000), part(sessionID, "p2", 1000)]);
    expect(filled.status).toBe(200);
    const before = await call(base, "GET", `/api/share/${id}/data`);
    expect(before.body).toHaveLength(2);

    // One more item, alongside a change that fits: refused as a whole.
    const over = await sync([part(sessionID, "p2", 999), part(sessionID, "p3", 200)]);
    expect(over.status).toBe(413);
    expect(over.body.error.code).toBe("ERR_SHARE_TOO_LARGE");
    expect(over.body.error.message).toBe(
      `share sync: share "${id}" holds 4000 bytes of content JSON (counting writes in flight); this request would add 199, more than the limit of 4096 bytes per share; nothing was applied (delete or shrink keys, or raise share_max_bytes)`,
    );
    const after = await call(base, "GET", `/api/share/${id}/data`);
    expect(after.body).toEqual(before.body);

    // A smaller value for a key: 200, and the room it frees can be used.
    const smaller = await sync([part(sessionID, "p1", 2000)]);
    expect(smaller.status).toBe(200);
    expect((await sync([part(sessionID, "p3", 1000)])).status).toBe(200);
    expect((await sync([part(sessionID, "p4", 200)])).status).toBe(413);
  });
});
