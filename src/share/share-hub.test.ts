import { afterEach, describe, expect, it } from "vitest";
import { createMemoryStore } from "../storage/memory-store.js";
import type { Store } from "../storage/store.js";
import { ShareHub } from "./share-hub.js";

const limits = {
  maxItemBytes: 1 << 20,
  viewerMaxBufferedBytes: 1 << 20,
  logMaxFrames: 100,
  logMaxBytes: 1 << 20,
  idleEvictMs: 1, // idle at once; the sweep runs every 250 ms
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
    hub = new ShareHub({ store, limits });
    const sessionID = "ses_test_evicted1";
    const { id, secret } = await hub.create(sessionID);
    const item = { type: "part", data: { id: "p1", messageID: "m", sessionID } };
    expect((await hub.sync(id, secret, [item])).seq).toBe(1);

    const removed = hub.remove(id, secret);
    await sleep(700); // several sweeps while the delete is held
    expect(hub.loadedShares).toBe(1);
    // Still being deleted: not found, rather than a copy reloaded from the store.
    await expect(hub.read(id)).rejects.toMatchObject({ code: "ERR_SHARE_NOT_FOUND" });
    release();
    await removed;
    expect(hub.loadedShares).toBe(0);
    await expect(hub.read(id)).rejects.toMatchObject({ code: "ERR_SHARE_NOT_FOUND" });
    expect(await hub.exists(id)).toBe(false);
  });
});
