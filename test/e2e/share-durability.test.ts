// Durability of acknowledged share syncs: a `syncline serve` child answers 200 to a sync, is
// killed with SIGKILL at once, restarts on the same data directory, and serves the items (to
// GET data and to a new viewer), with the seq continuing where it was.

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { serveEnv, startServe, stopServe, waitForExit } from "../helpers/cli.js";
import { call, openViewer, sessionItems, sessionOf } from "../helpers/share.js";
import { createTempDir } from "../helpers/temp-dir.js";

let dir: { path: string; remove: () => Promise<void> };
beforeEach(async () => {
  dir = await createTempDir("syncline-share-durable-");
});
afterEach(async () => {
  await dir.remove();
});

const serve = () => startServe(`${dir.path}/data`, { env: serveEnv(dir.path) });

describe("share durability", () => {
  it("items acknowledged before SIGKILL are there after a restart", async () => {
    const sessionID = sessionOf("durable1");
    const first = await serve();
    const created = await call(first.base, "POST", "/api/share", { sessionID });
    expect(created.status).toBe(201);
    const { id, secret } = created.body;
    const big = "z".repeat(300 * 1024);
    const items = [
      ...sessionItems(sessionID, 20),
      { type: "part", data: { id: "big", messageID: "msg_1", sessionID, text: big } },
    ];
    // Several syncs in flight together, then SIGKILL the moment the last 200 arrives.
    const answers = await Promise.all(
      [items.slice(0, 10), items.slice(10, 20), items.slice(20)].map((data) =>
        call(first.base, "POST", `/api/share/${id}/sync`, { secret, data }),
      ),
    );
    first.child.kill("SIGKILL");
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect((await waitForExit(first.child, 10_000)).signal).toBe("SIGKILL");

    const second = await serve();
    try {
      const data = await call(second.base, "GET", `/api/share/${id}/data`);
      expect(data.status).toBe(200);
      expect(data.body).toHaveLength(items.length);
      expect(data.headers.get("x-share-seq")).toBe(String(items.length));
      expect(data.body.find((item: { key: string }) => item.key.endsWith("/big")).data.text).toBe(
        big,
      );
      const viewer = await openViewer(second.base, `id=${id}&v=2`);
      // A frame per item, then the state frame with the seq and the share's epoch.
      const initial = await viewer.waitFrames(items.length + 1);
      expect(new Set(initial.slice(0, -1).map((frame) => frame.key)).size).toBe(items.length);
      expect(initial.at(-1)).toEqual({
        type: "state",
        seq: items.length,
        epoch: expect.any(String),
      });
      // The secret still works (only its hash was stored) and the seq continues.
      const next = await call(second.base, "POST", `/api/share/${id}/sync`, {
        secret,
        data: [{ type: "session", data: { id: sessionID, title: "after restart" } }],
      });
      expect(next.body.seq).toBe(items.length + 1);
      const live = await viewer.waitFrames(items.length + 2);
      expect(live.at(-1)).toMatchObject({
        seq: items.length + 1,
        content: { title: "after restart" },
      });
      viewer.socket.terminate();
    } finally {
      await stopServe(second.child);
    }
  }, 60_000);
});
