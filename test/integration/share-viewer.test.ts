// The viewer WebSocket (/share_poll) against a real server: the full state (a frame per key, and
// with v=2 a state frame ending it), live frames in durable order, catch-up with since, delete →
// 4410, slow viewers closed with 4429 while others keep receiving, idle shares leaving memory and
// coming back, shutdown → 1001, metrics.

import { afterEach, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { call, openViewer, sessionItems, sessionOf, type TestViewer } from "../helpers/share.js";

let test: TestServer | undefined;
const viewers: TestViewer[] = [];
afterEach(async () => {
  for (const viewer of viewers.splice(0)) viewer.socket.terminate();
  await test?.stop();
  test = undefined;
});

async function setup(overrides = {}) {
  test = await startTestServer(overrides);
  const base = test.server.url;
  const id = "view0001";
  const sessionID = sessionOf(id);
  const created = await call(base, "POST", "/api/share", { sessionID });
  const secret = created.body.secret as string;
  const sync = async (data: unknown[]) => {
    const answer = await call(base, "POST", `/api/share/${id}/sync`, { secret, data });
    expect(answer.status).toBe(200);
    return answer.body as { seq: number };
  };
  const part = (n: number, text = `t${n}`) => ({
    type: "part",
    data: { id: `prt_${n}`, messageID: "msg_1", sessionID, text },
  });
  /** A viewer; version 2 of the frames (a state frame ends a full state) unless told otherwise. */
  const view = async (query = `id=${id}&v=2`) => {
    const viewer = await openViewer(base, query);
    viewers.push(viewer);
    return viewer;
  };
  return { base, id, sessionID, secret, sync, part, view };
}

describe("the viewer WebSocket", () => {
  it("sends one {key, content} frame per stored key, in key order, then live frames in order", async () => {
    const { id, sessionID, sync, part, view } = await setup();
    await sync(sessionItems(sessionID, 1));
    // The default form is OpenCode's: every frame has a key, and nothing marks the state's end.
    const viewer = await view(`id=${id}`);
    const initial = await viewer.waitFrames(3);
    expect(initial).toEqual([
      { key: `session/info/${sessionID}`, content: { id: sessionID, title: "a test session" } },
      {
        key: `session/message/${sessionID}/msg_1`,
        content: { id: "msg_1", sessionID, role: "user" },
      },
      {
        key: `session/part/${sessionID}/msg_1/prt_0`,
        content: expect.objectContaining({ text: "hello 0" }),
      },
    ]);
    await sync([part(1), part(2)]);
    await sync([part(1, "again")]);
    const frames = await viewer.waitFrames(6);
    expect(frames.slice(3)).toEqual([
      { key: `session/part/${sessionID}/msg_1/prt_1`, content: part(1).data, seq: 4 },
      { key: `session/part/${sessionID}/msg_1/prt_2`, content: part(2).data, seq: 5 },
      { key: `session/part/${sessionID}/msg_1/prt_1`, content: part(1, "again").data, seq: 6 },
    ]);
    for (const frame of frames) expect(frame.key.split("/")[0]).toBe("session");
  });

  it("with v=2, ends the full state with {type: state, seq, epoch}", async () => {
    const { sessionID, sync, part, view } = await setup();
    await sync(sessionItems(sessionID, 1));
    const viewer = await view();
    const initial = await viewer.waitFrames(4);
    expect(initial.slice(0, 3).map((frame) => Object.keys(frame))).toEqual([
      ["key", "content"],
      ["key", "content"],
      ["key", "content"],
    ]);
    expect(initial[3]).toEqual({
      type: "state",
      seq: 3,
      epoch: expect.stringMatching(/^[A-Za-z0-9_-]{16}$/),
    });
    await sync([part(1)]);
    expect((await viewer.waitFrames(5))[4]).toEqual({
      key: `session/part/${sessionID}/msg_1/prt_1`,
      content: part(1).data,
      seq: 4,
    });
    await expect(view("id=view0001&v=3")).rejects.toMatchObject({ status: 400 });
  });

  it("accepts ?sessionID=<full id> and ignores what viewers send", async () => {
    const { sessionID, sync, part, view } = await setup();
    const viewer = await view(`sessionID=${sessionID}&v=2`);
    await viewer.waitFrames(1);
    viewer.socket.send("hello server");
    viewer.socket.send(JSON.stringify({ key: "session/info/x", content: 1 }));
    await sync([part(1)]);
    const frames = await viewer.waitFrames(2);
    expect(frames[1].seq).toBe(1);
    expect(viewer.socket.readyState).toBe(viewer.socket.OPEN);
  });

  it("keeps the durable order across many concurrent syncs, the same for every viewer", async () => {
    const { sync, part, view } = await setup();
    const a = await view();
    const b = await view();
    await Promise.all(Array.from({ length: 30 }, (_, n) => sync([part(n)])));
    const framesA = await a.waitFrames(31);
    const framesB = await b.waitFrames(31);
    const metrics = await (await fetch(`${test?.server.url}/metrics`)).text();
    expect(metrics).toMatch(/syncline_share_viewers 2\n/);
    expect(metrics).toMatch(/syncline_share_deliveries_total 62\n/);
    expect(framesA.slice(1).map((f) => f.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(framesB).toEqual(framesA);
  });

  it("catches up with since: only the missed frames, no initial state", async () => {
    const { sync, part, view } = await setup();
    await sync([part(1), part(2)]);
    const first = await view();
    const initial = await first.waitFrames(3);
    expect(initial[2]).toMatchObject({ type: "state", seq: 2 });
    first.socket.close();
    await sync([part(3)]);
    await sync([part(4)]);
    const back = await view(`id=view0001&since=2`);
    const frames = await back.waitFrames(2);
    expect(frames.map((f) => [f.seq, f.content.id])).toEqual([
      [3, "prt_3"],
      [4, "prt_4"],
    ]);
    await sync([part(5)]);
    expect((await back.waitFrames(3))[2].seq).toBe(5);
    // Up to date: nothing at all until the next write.
    const current = await view(`id=view0001&since=5`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(current.frames).toEqual([]);
    await sync([part(6)]);
    expect((await current.waitFrames(1))[0].seq).toBe(6);
  });

  it("sends the full state when since is older than the log, or not a seq of this share", async () => {
    const { sync, part, view } = await setup({ shareCatchupFrames: 3 });
    for (let n = 1; n <= 6; n++) await sync([part(n)]);
    const old = await view(`id=view0001&since=1&v=2`);
    const state = await old.waitFrames(7); // 6 parts, then the state
    expect(state.slice(0, 6).every((frame) => frame.seq === undefined)).toBe(true);
    expect(state[6]).toMatchObject({ type: "state", seq: 6 });
    const recent = await view(`id=view0001&since=3&v=2`);
    expect((await recent.waitFrames(3)).map((f) => f.seq)).toEqual([4, 5, 6]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(recent.frames).toHaveLength(3); // catch-up has no state frame
    const future = await view(`id=view0001&since=99&v=2`);
    expect((await future.waitFrames(7))[6]).toMatchObject({ type: "state", seq: 6 });
  });

  it("sends the full state to a viewer of a deleted and re-created share (epoch), catches up within one", async () => {
    const { base, id, sessionID, secret, sync, part, view } = await setup();
    await sync([part(1), part(2), part(3)]);
    const a = await view();
    const first = (await a.waitFrames(4))[3];
    expect(first.seq).toBe(3);
    const oldEpoch = first.epoch;
    expect(oldEpoch).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    a.socket.terminate(); // A misses the 4410
    expect((await call(base, "DELETE", `/api/share/${id}`, { secret })).status).toBe(200);
    const again = await call(base, "POST", "/api/share", { sessionID });
    expect(again.status).toBe(201);
    const newSecret = again.body.secret as string;
    const other = (n: number) => ({
      type: "part",
      data: { id: `new_${n}`, messageID: "msg_9", sessionID, text: `new ${n}` },
    });
    const answer = await call(base, "POST", `/api/share/${id}/sync`, {
      secret: newSecret,
      data: [other(1), other(2), other(3)],
    });
    expect(answer.body.seq).toBe(3);

    // The same seq, another share: the full state of the new one, not an empty catch-up.
    const back = await view(`id=${id}&since=3&epoch=${oldEpoch}&v=2`);
    const full = await back.waitFrames(4, 2000);
    const state = full[3];
    expect(state.seq).toBe(3);
    const newEpoch = state.epoch;
    expect(newEpoch).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    expect(newEpoch).not.toBe(oldEpoch);
    expect(full.slice(0, 3).map((frame) => frame.key)).toEqual(
      [1, 2, 3].map((n) => `session/part/${sessionID}/msg_9/new_${n}`),
    );
    // An older seq of the old share: the full state too, never frames of the new one.
    const older = await view(`id=${id}&since=1&epoch=${oldEpoch}&v=2`);
    expect((await older.waitFrames(4, 2000))[3].epoch).toBe(newEpoch);

    // The same epoch: catch-up as before.
    const current = await view(`id=${id}&since=1&epoch=${newEpoch}`);
    const frames = await current.waitFrames(2, 2000);
    expect(frames.map((f) => [f.seq, f.content.id])).toEqual([
      [2, "new_2"],
      [3, "new_3"],
    ]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(current.frames).toHaveLength(2);
  });

  it("refuses unknown shares (404) and bad parameters (400) before the upgrade", async () => {
    const { view } = await setup();
    await expect(view("id=nosuchid")).rejects.toMatchObject({ status: 404 });
    await expect(view("id=bad")).rejects.toMatchObject({ status: 400 });
    await expect(view("")).rejects.toMatchObject({ status: 400 });
    await expect(view("id=view0001&since=-1")).rejects.toMatchObject({ status: 400 });
    await expect(view("id=view0001&since=1&epoch=")).rejects.toMatchObject({ status: 400 });
    await expect(view("id=view0001&since=1&epoch=a%20b")).rejects.toMatchObject({ status: 400 });
    await expect(view(`id=view0001&since=1&epoch=${"e".repeat(65)}`)).rejects.toMatchObject({
      status: 400,
    });
    await expect(view("sessionID=x")).rejects.toMatchObject({ status: 400 });
  });

  it("tells viewers of a delete with a share/deleted frame and 4410; later viewers get 410", async () => {
    const { base, id, secret, view } = await setup();
    const a = await view();
    const b = await view();
    await a.waitFrames(1);
    await b.waitFrames(1);
    expect((await call(base, "DELETE", `/api/share/${id}`, { secret })).status).toBe(200);
    expect((await a.closed).code).toBe(4410);
    expect((await b.closed).code).toBe(4410);
    for (const viewer of [a, b]) {
      expect(viewer.frames.at(-1)).toEqual({
        key: "share/deleted",
        content: { id, deletedAt: expect.any(Number) },
      });
    }
    await expect(view()).rejects.toMatchObject({ status: 410 });
  });

  it("closes a viewer that stops reading with 4429 while the others keep getting frames", async () => {
    const { sync, sessionID, view } = await setup({ shareViewerMaxBufferedBytes: 64 * 1024 });
    const stuck = await view();
    const fine = await view();
    await stuck.waitFrames(1);
    await fine.waitFrames(1);
    // Stop reading at the TCP level: the server's socket buffers fill, then its own queue grows.
    (stuck.socket as unknown as { _socket: { pause(): void } })._socket.pause();
    const big = "y".repeat(200 * 1024);
    for (let n = 0; n < 60; n++) {
      await sync([
        { type: "part", data: { id: `big_${n}`, messageID: "m", sessionID, text: `${n}${big}` } },
      ]);
    }
    expect((await fine.waitFrames(61, 20_000)).at(-1).seq).toBe(60);
    const metrics = await (await fetch(`${test?.server.url}/metrics`)).text();
    expect(metrics).toMatch(/syncline_share_slow_viewers_total 1/);
    (stuck.socket as unknown as { _socket: { resume(): void } })._socket.resume();
    const closed = await stuck.closed;
    expect(closed.code).toBe(4429);
    expect(stuck.frames.length).toBeLessThan(61);
  }, 30_000);

  it("closes viewers with 1001 on shutdown", async () => {
    const { view } = await setup();
    const viewer = await view();
    await viewer.waitFrames(1);
    await test?.halt();
    expect((await viewer.closed).code).toBe(1001);
  });

  it("lets idle shares leave memory and brings them back from storage", async () => {
    const { base, id, sync, part, view } = await setup({ shareIdleEvictMs: 300 });
    await sync([part(1)]);
    const hub = test?.server.shares;
    expect(hub?.loadedShares).toBe(1);
    const viewer = await view();
    await viewer.waitFrames(1);
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(hub?.loadedShares).toBe(1); // a viewer keeps it
    viewer.socket.close();
    await viewer.closed;
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(hub?.loadedShares).toBe(0);
    const data = await call(base, "GET", `/api/share/${id}/data`);
    expect(data.body).toHaveLength(1);
    expect(hub?.loadedShares).toBe(1);
    expect((await sync([part(2)])).seq).toBe(2);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/syncline_share_active 1/);
    expect(metrics).toMatch(/syncline_share_publishes_total 2/);
    expect(metrics).toMatch(/syncline_share_publish_broadcast_seconds_count 2/);
    expect(metrics).toMatch(/syncline_share_deliveries_total 2/); // a key, the state
  });
});
