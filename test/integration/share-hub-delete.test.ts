// The share hub against an in-memory store (a driver, so these tests live here rather than beside
// the hub: share/ may only import the storage interface): a delete in progress holds its share,
// and every share gets an epoch of its own.

import { afterEach, describe, expect, it } from "vitest";
import { ShareHub } from "../../src/share/share-hub.js";
import { metaKey } from "../../src/share/share-storage.js";
import type { ViewerSocket } from "../../src/share/viewer-fanout.js";
import { createMemoryStore } from "../../src/storage/memory-store.js";
import type { Store } from "../../src/storage/store.js";
import { recordingViewer } from "../helpers/recording-viewer.js";

const settings = {
  shareMaxItemBytes: 1 << 20,
  shareMaxBytes: 1 << 30,
  shareViewerMaxBufferedBytes: 1 << 20,
  shareViewerFlushMs: 0,
  shareCatchupFrames: 100,
  shareCatchupBytes: 1 << 20,
  shareIdleEvictMs: 1, // idle at once; the sweep runs every 250 ms
  shareMemoryBudget: 2 ** 40, // no budget to speak of
  shareTotalMaxBytes: 0,
  shareExpireAfterMs: 0,
  shareTombstoneMs: 0,
  shareTombstoneMax: 0,
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let hub: ShareHub | undefined;
afterEach(async () => {
  await hub?.close();
  hub = undefined;
});

describe("ShareHub", () => {
  it("keeps a share being deleted from idle eviction, so no request reloads it meanwhile", async () => {
    const inner = createMemoryStore();
    let release: () => void = () => {};
    const deleting = new Promise<void>((resolve) => {
      release = resolve;
    });
    const store: Store = {
      get: (key) => inner.get(key),
      range: (prefix, options) => inner.range(prefix, options),
      write: (ops) => inner.write(ops),
      // A slow delete: held until the test releases it.
      deletePrefix: (prefix) => deleting.then(() => inner.deletePrefix(prefix)),
      close: () => inner.close(),
      status: () => inner.status(),
    };
    hub = new ShareHub({ store, settings });
    const sessionID = "ses_test_evicted1";
    const { id, secret } = await hub.create(sessionID);
    const item = { type: "part", data: { id: "p1", messageID: "m", sessionID } };
    expect((await hub.sync(id, secret, [item])).seq).toBe(1);

    const removed = hub.remove(id, secret);
    await sleep(700); // several sweeps while the delete is held
    expect(hub.loadedShares).toBe(1);
    // Still being deleted: retry (503), rather than a copy reloaded from the store.
    await expect(hub.read(id)).rejects.toMatchObject({ code: "ERR_SHARE_DELETING", status: 503 });
    release();
    await removed;
    expect(hub.loadedShares).toBe(0);
    await expect(hub.read(id)).rejects.toMatchObject({ code: "ERR_SHARE_NOT_FOUND" });
    expect(await hub.exists(id)).toBe(false);
  });

  it("tells requests during a delete to retry, so a delete that fails leaves no one told 404", async () => {
    const inner = createMemoryStore();
    let fail: (error: Error) => void = () => {};
    const failing = new Promise<void>((_, reject) => {
      fail = reject;
    });
    const store: Store = {
      get: (key) => inner.get(key),
      range: (prefix, options) => inner.range(prefix, options),
      write: (ops) => inner.write(ops),
      // A delete held until the test makes it fail.
      deletePrefix: () => failing,
      close: () => inner.close(),
      status: () => inner.status(),
    };
    hub = new ShareHub({ store, settings: { ...settings, shareIdleEvictMs: 60_000 } });
    const sessionID = "ses_test_delfail1";
    const { id, secret } = await hub.create(sessionID);
    await hub.sync(id, secret, [item(sessionID, "p1")]);

    const removed = hub.remove(id, secret);
    await sleep(20);
    await expect(hub.sync(id, secret, [item(sessionID, "p2")])).rejects.toMatchObject({
      code: "ERR_SHARE_DELETING",
      status: 503,
    });
    await expect(hub.read(id)).rejects.toMatchObject({ code: "ERR_SHARE_DELETING" });
    let closed: number | undefined;
    const socket: ViewerSocket = {
      write: () => true,
      needsDrain: () => false,
      drained: async () => true,
      bufferedAmount: () => 0,
      close: (code) => {
        closed = code;
      },
    };
    expect(await hub.attach(id, socket)).toBeUndefined();
    expect(closed).toBe(1011); // come back: the share may stay

    fail(new Error("disk gone"));
    await expect(removed).rejects.toMatchObject({ code: "ERR_SHARE_STORAGE" });
    // The share is as it was, and takes syncs again.
    expect((await hub.sync(id, secret, [item(sessionID, "p2")])).seq).toBe(2);
    expect((await hub.read(id)).items.map((stored) => stored.key)).toHaveLength(2);
  });

  it("gives each created share a new epoch; a since of another epoch gets the full state", async () => {
    hub = new ShareHub({
      store: createMemoryStore(),
      settings: { ...settings, shareIdleEvictMs: 60_000 },
    });
    const sessionID = "ses_test_epochs01";
    const first = await hub.create(sessionID);
    await hub.sync(first.id, first.secret, [item(sessionID, "p1"), item(sessionID, "p2")]);
    const oldEpoch = initialOf(await view(hub, first.id)).epoch;
    expect(oldEpoch).toMatch(/^[A-Za-z0-9_-]{16}$/);
    await hub.remove(first.id, first.secret);
    const second = await hub.create(sessionID);
    await hub.sync(second.id, second.secret, [item(sessionID, "q1"), item(sessionID, "q2")]);
    const full = await view(hub, second.id, 1, oldEpoch as string);
    expect(full.frames).toHaveLength(3); // q1, q2, the state
    const newEpoch = initialOf(full).epoch;
    expect(newEpoch).not.toBe(oldEpoch);
    expect((await view(hub, second.id, 1, newEpoch as string)).frames.map(seqOf)).toEqual([2]);
    expect((await view(hub, second.id, 1)).frames.map(seqOf)).toEqual([2]); // no epoch: as before
  });

  it("shares stored before epochs: epoch c<createdAt>, or none (since as before)", async () => {
    const store = createMemoryStore();
    hub = new ShareHub({ store, settings: { ...settings, shareIdleEvictMs: 60_000 } });
    const { id, secret } = await hub.create("ses_test_legacy01");
    await hub.close();
    // Rewrite the meta as an older version stored it: no epoch.
    const meta = JSON.parse(new TextDecoder().decode(await store.get(metaKey(id))));
    delete meta.epoch;
    const put = (value: object) =>
      store.write([
        { type: "put", key: metaKey(id), value: new TextEncoder().encode(JSON.stringify(value)) },
      ]);
    await put(meta);
    hub = new ShareHub({ store, settings: { ...settings, shareIdleEvictMs: 60_000 } });
    await hub.sync(id, secret, [item("ses_test_legacy01", "p1"), item("ses_test_legacy01", "p2")]);
    expect(initialOf(await view(hub, id)).epoch).toBe(`c${meta.createdAt}`);
    expect((await view(hub, id, 1, `c${meta.createdAt}`)).frames.map(seqOf)).toEqual([2]);
    await hub.close();

    // Not even a createdAt: the epoch is unknown, none is sent, and since works as before.
    delete meta.createdAt;
    await put(meta);
    hub = new ShareHub({ store, settings: { ...settings, shareIdleEvictMs: 60_000 } });
    await hub.sync(id, secret, [item("ses_test_legacy01", "p3")]);
    const initial = initialOf(await view(hub, id));
    expect(initial).not.toHaveProperty("epoch");
    expect(initial.seq).toBe(3);
    expect((await view(hub, id, 2)).frames.map(seqOf)).toEqual([3]);
    // An epoch given for a share without one names another share: the full state.
    expect(initialOf(await view(hub, id, 2, "AAAAAAAAAAAAAAAA")).seq).toBe(3);
  });
});

const item = (sessionID: string, id: string) => ({
  type: "part",
  data: { id, messageID: "m", sessionID, text: id },
});

/** A viewer socket (version 2 of the frames) recording the parsed frames it is sent. */
async function view(target: ShareHub, id: string, since?: number, epoch?: string) {
  const { socket, frames } = recordingViewer();
  const detach = await target.attach(id, socket, { since, epoch, version: 2 });
  await sleep(5); // a turn's updates leave at its end
  detach?.();
  return { frames };
}

/** The `state` frame ending a full state: the last frame, after one frame per key. */
const initialOf = (viewer: { frames: Record<string, unknown>[] }) => {
  const state = viewer.frames.at(-1);
  expect(state).toMatchObject({ type: "state", seq: expect.any(Number) });
  for (const frame of viewer.frames.slice(0, -1))
    expect(Object.keys(frame)).toEqual(["key", "content"]);
  return state as Record<string, unknown>;
};
const seqOf = (frame: Record<string, unknown>) => frame.seq;
