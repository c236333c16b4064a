// Two share hubs as two nodes: one in-memory store (the shared database) and a memory bus network,
// so outages and lost or hostile messages can be made exactly: a node whose copy missed writes
// catches up from the store's log, one the log cannot bring up to date is reloaded, and messages
// that are not ours change nothing.

import { afterEach, describe, expect, it } from "vitest";
import { createMemoryBusNetwork } from "../../src/bus/memory-bus.js";
import { ShareHub } from "../../src/share/share-hub.js";
import { shareTopic } from "../../src/share/share-nodes.js";
import { createMemoryStore } from "../../src/storage/memory-store.js";
import { recordingViewer } from "../helpers/recording-viewer.js";

const settings = {
  shareMaxItemBytes: 1 << 20,
  shareMaxBytes: 1 << 30,
  shareViewerMaxBufferedBytes: 1 << 20,
  shareViewerFlushMs: 0,
  shareCatchupFrames: 8,
  shareCatchupBytes: 1 << 20,
  shareIdleEvictMs: 60_000,
  shareMemoryBudget: 2 ** 40,
  shareTotalMaxBytes: 0,
  shareExpireAfterMs: 0,
  shareTombstoneMs: 60_000,
  shareTombstoneMax: 100,
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const hubs: ShareHub[] = [];
afterEach(async () => {
  await Promise.all(hubs.splice(0).map((hub) => hub.close()));
});

async function twoNodes() {
  const store = createMemoryStore();
  const network = createMemoryBusNetwork();
  const errors: string[] = [];
  const observer = { error: (error: unknown) => errors.push(String(error)) };
  const a = new ShareHub({ store, settings, bus: network.connect(), observer });
  const b = new ShareHub({ store, settings, bus: network.connect(), observer });
  hubs.push(a, b);
  await a.start();
  await b.start();
  const sessionID = "ses_test_nodes001";
  const created = await a.create(sessionID);
  const id = created.id;
  const secret = created.secret as string;
  const part = (n: number) => ({
    type: "part",
    data: { id: `prt_${n}`, messageID: "msg_1", sessionID, text: `t${n}` },
  });
  return { store, network, a, b, id, secret, part, errors };
}

const seqs = (frames: Record<string, unknown>[]) =>
  frames.filter((frame) => typeof frame.seq === "number" && !frame.type).map((f) => f.seq);

describe("share hubs on two nodes", () => {
  it("catches a node up from the store's log when the bus lost some writes", async () => {
    const { network, a, b, id, secret, part } = await twoNodes();
    const viewer = recordingViewer();
    await b.attach(id, viewer.socket, { version: 2 });
    network.setOnline(false);
    for (let n = 1; n <= 3; n++) await a.sync(id, secret, [part(n)]);
    network.setOnline(true); // resume: node B asks the store
    await sleep(50);
    expect(seqs(viewer.frames)).toEqual([1, 2, 3]);
    // Node B's own write follows on from them: no seq is taken twice.
    expect((await b.sync(id, secret, [part(4)])).seq).toBe(4);
    await sleep(20); // viewers are written to in batches
    expect(seqs(viewer.frames)).toEqual([1, 2, 3, 4]);
  });

  it("takes the next seq after a conflict without the bus: the refused turn catches up first", async () => {
    const { network, a, b, id, secret, part } = await twoNodes();
    const viewer = recordingViewer();
    await b.attach(id, viewer.socket, { version: 2 });
    network.setOnline(false);
    await a.sync(id, secret, [part(1)]);
    await a.sync(id, secret, [part(2)]);
    // B's copy is at seq 0: its write is refused by the store, it catches up, then writes 3.
    expect((await b.sync(id, secret, [part(3)])).seq).toBe(3);
    await sleep(20);
    expect(seqs(viewer.frames)).toEqual([1, 2, 3]);
  });

  it("reloads a copy the log cannot bring up to date: its viewers reconnect, the sync lands", async () => {
    const { network, a, b, id, secret, part } = await twoNodes();
    const viewer = recordingViewer();
    let closed: number | undefined;
    viewer.socket.close = (code) => {
      closed = code;
    };
    await b.attach(id, viewer.socket, { version: 2 });
    network.setOnline(false);
    // More writes than the log keeps (8): node B cannot learn them one by one.
    for (let n = 1; n <= 12; n++) await a.sync(id, secret, [part(n)]);
    expect((await b.sync(id, secret, [part(13)])).seq).toBe(13);
    expect(closed).toBe(1011);
    const fresh = recordingViewer();
    await b.attach(id, fresh.socket, { since: 10 });
    await sleep(20);
    expect(seqs(fresh.frames)).toEqual([11, 12, 13]);
  });

  it("ends a share deleted through the other node even when the bus lost the news", async () => {
    const { network, a, b, id, secret, part } = await twoNodes();
    await b.sync(id, secret, [part(1)]);
    network.setOnline(false);
    await a.remove(id, secret);
    await expect(b.sync(id, secret, [part(2)])).rejects.toMatchObject({
      code: "ERR_SHARE_NOT_FOUND",
    });
    network.setOnline(true);
    await expect(b.read(id)).rejects.toMatchObject({ status: 410 });
  });

  it("drops messages that are not share news, and goes on", async () => {
    const { network, a, b, id, secret, part, errors } = await twoNodes();
    const stranger = network.connect();
    for (const bytes of [
      new Uint8Array([1, 2, 3]),
      new Uint8Array(0),
      new TextEncoder().encode('{"t":"w"}'),
    ]) {
      await stranger.publish(shareTopic, bytes);
    }
    await sleep(20);
    expect(errors.length).toBe(6); // each node drops each of the three
    const viewer = recordingViewer();
    await b.attach(id, viewer.socket, { version: 2 });
    await a.sync(id, secret, [part(1)]);
    await sleep(20);
    expect(seqs(viewer.frames)).toEqual([1]);
    await stranger.close();
  });
});
