// OpenCode's share page's viewer against a real server on port 0: it opens /share_poll?id=<id>
// (no version: OpenCode's frames), splits every frame's key on "/", keeps the session info, files
// messages by the key's 4th segment and parts under `content.messageID` — a part whose message it
// has not seen throws and is lost — and reconnects every 2 s whatever the close. Replayed here
// with the same store logic (test/helpers/opencode.ts), it must end with every message and part.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openOpenCodeViewer } from "../helpers/opencode.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { call } from "../helpers/share.js";

let test: TestServer;
let base: string;
beforeAll(async () => {
  test = await startTestServer();
  base = test.server.url;
});
afterAll(async () => {
  await test.stop();
});

let counter = 0;
async function newShare() {
  const sessionID = `ses_ocviewer${String(++counter).padStart(6, "0")}`;
  const created = await call(base, "POST", "/api/share", { sessionID });
  const id = created.body.id as string;
  const secret = created.body.secret as string;
  const sync = async (data: unknown[]) => {
    const answer = await call(base, "POST", `/api/share/${id}/sync`, { secret, data });
    expect(answer.status).toBe(200);
    return answer;
  };
  return { sessionID, id, secret, sync };
}

const message = (sessionID: string, id: string, role = "assistant") => ({
  type: "message",
  data: { id, sessionID, role, path: { cwd: "/", root: "/" }, time: { created: 1 } },
});
const part = (sessionID: string, messageID: string, id: string, text = id) => ({
  type: "part",
  data: { id, sessionID, messageID, type: "text", text },
});

describe("OpenCode's viewer", () => {
  it("gets every message and part of the initial state, each frame a string key", async () => {
    const { sessionID, id, sync } = await newShare();
    // Parts of later messages first in the request, and ids whose order differs from the request's.
    await sync([
      part(sessionID, "msg_b", "prt_2"),
      part(sessionID, "msg_a", "prt_1"),
      { type: "session", data: { id: sessionID, title: "the session" } },
      message(sessionID, "msg_b"),
      message(sessionID, "msg_a", "user"),
      { type: "session_diff", data: [{ file: "a.ts", before: "", after: "x" }] },
      { type: "model", data: [{ id: "m" }] },
      { type: "newer_thing", data: { x: 1 } },
    ]);
    const viewer = await openOpenCodeViewer(base, id);
    await viewer.waitFrames(8);
    expect(viewer.store.errors).toEqual([]);
    for (const frame of viewer.frames) expect(typeof JSON.parse(frame).key).toBe("string");
    expect(viewer.store.info).toEqual({ id: sessionID, title: "the session" });
    expect(Object.keys(viewer.store.messages).sort()).toEqual(["msg_a", "msg_b"]);
    expect(viewer.store.messages.msg_a.parts.map((p: { id: string }) => p.id)).toEqual(["prt_1"]);
    expect(viewer.store.messages.msg_b.parts.map((p: { id: string }) => p.id)).toEqual(["prt_2"]);
    viewer.close();
  });

  it("gets live parts of a message sent in the same batch, the message first", async () => {
    const { sessionID, id, sync } = await newShare();
    await sync([{ type: "session", data: { id: sessionID, title: "t" } }]);
    const viewer = await openOpenCodeViewer(base, id);
    await viewer.waitFrames(1);
    // OpenCode's newest client sends a user message with its first part; any order in the batch.
    await sync([part(sessionID, "msg_c", "prt_9", "hello"), message(sessionID, "msg_c", "user")]);
    await sync([part(sessionID, "msg_c", "prt_9", "hello again")]);
    await viewer.waitFrames(4);
    expect(viewer.store.errors).toEqual([]);
    expect(viewer.store.messages.msg_c.parts).toEqual([
      expect.objectContaining({ id: "prt_9", text: "hello again" }),
    ]);
    viewer.close();
  });

  it("reads the share/deleted frame without throwing, then the close; a retry gets 410", async () => {
    const { sessionID, id, secret, sync } = await newShare();
    await sync([{ type: "session", data: { id: sessionID, title: "t" } }]);
    const viewer = await openOpenCodeViewer(base, id);
    await viewer.waitFrames(1);
    expect((await call(base, "DELETE", `/api/share/${id}`, { secret })).status).toBe(200);
    const closed = await viewer.closed;
    expect(closed.code).toBe(4410);
    expect(JSON.parse(viewer.frames.at(-1) as string)).toEqual({
      key: "share/deleted",
      content: { id, deletedAt: expect.any(Number) },
    });
    expect(viewer.store.errors).toEqual([]);
    expect(viewer.store.ignored).toEqual(["share/deleted"]);
    // Its 2 s retry: refused 410 (it ignores the status and retries; ours stops).
    await expect(openOpenCodeViewer(base, id)).rejects.toMatchObject({ status: 410 });
  });

  it("still gets 410 for a deleted share after a server restart (tombstones are durable)", async () => {
    const { sessionID, id, secret, sync } = await newShare();
    await sync([{ type: "session", data: { id: sessionID, title: "t" } }]);
    expect((await call(base, "DELETE", `/api/share/${id}`, { secret })).status).toBe(200);
    await test.restart();
    await expect(openOpenCodeViewer(base, id)).rejects.toMatchObject({ status: 410 });
    expect((await call(base, "GET", `/share_data?id=${id}`)).status).toBe(410);
    await expect(openOpenCodeViewer(base, "never123")).rejects.toMatchObject({ status: 404 });
  });
});
