// OpenCode's current share client ("enterprise": {"url": <server>}) against a real server on port
// 0, with the requests exactly as it sends them: POST /api/share {sessionID} (JSON), then one POST
// /api/share/<id>/sync {secret, data} per 1 s window holding every item of the window — the first
// one the whole transcript — merged by key (its first version did not merge, so one batch may
// hold a key twice: the last wins), a DELETE with a JSON body. Its client never retries nor splits
// a batch and ignores the answer's body, so nothing of a batch may be lost to one item.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { call } from "../helpers/share.js";

let test: TestServer;
let base: string;
beforeAll(async () => {
  test = await startTestServer(); // the default limits: they must fit real sessions
  base = test.server.url;
});
afterAll(async () => {
  await test.stop();
});

const sessionID = "ses_sharenextabcd";
const id = sessionID.slice(-8);

/** A file diff of the older form: the full text before and after. */
function fileDiff(file: string, bytes: number) {
  const line = "const x = 1; // some code\n";
  const text = (seed: string) => `${seed}\n${line.repeat(Math.ceil(bytes / line.length))}`;
  return { file, before: text("before"), after: text("after"), additions: 1, deletions: 1 };
}

/** POST /api/share/<id>/sync as its client sends it. */
function sync(secret: string, data: unknown[]) {
  return call(base, "POST", `/api/share/${id}/sync`, { secret, data });
}

describe("OpenCode's current client", () => {
  let secret: string;

  it("creates a share and gets {id, url, secret}, all strings, url /share/<id>", async () => {
    const created = await call(base, "POST", "/api/share", { sessionID });
    secret = created.body.secret;
    expect([200, 201]).toContain(created.status);
    expect(created.body).toEqual({
      id,
      url: `${base}/share/${id}`,
      secret: expect.any(String),
    });
  });

  it("applies a window with a 1.2 MB session_diff and a part: both stored", async () => {
    const diff = [fileDiff("package-lock.json", 600_000)];
    expect(JSON.stringify(diff).length).toBeGreaterThan(1_200_000);
    const answer = await sync(secret, [
      { type: "session", data: { id: sessionID, title: "t", version: "1" } },
      { type: "message", data: { id: "msg_1", sessionID, role: "user", time: { created: 1 } } },
      {
        type: "part",
        data: { id: "prt_1", sessionID, messageID: "msg_1", type: "text", text: "hi" },
      },
      { type: "session_diff", data: diff },
      { type: "model", data: [{ id: "claude", providerID: "anthropic", name: "Claude" }] },
    ]);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ accepted: 5, ignoredCount: 0 });
    const stored = await call(base, "GET", `/api/share/${id}/data`);
    expect(stored.body.map((item: { type: string }) => item.type)).toEqual([
      "session_diff",
      "session",
      "message",
      "model",
      "part",
    ]);
  });

  it("keeps the last of a key sent twice in one batch, and items of unknown types", async () => {
    const part = (text: string) => ({
      type: "part",
      data: { id: "prt_2", sessionID, messageID: "msg_1", type: "text", text },
    });
    const answer = await sync(secret, [
      part("first"),
      { type: "public_transcript_v2", data: { turns: [] } },
      part("last"),
    ]);
    expect(answer.status).toBe(200);
    expect(answer.body.ignoredCount).toBe(0);
    const stored = await call(base, "GET", `/api/share/${id}/data`);
    const byKey = new Map(
      stored.body.map((item: { key: string; type: string; data: unknown }) => [item.key, item]),
    );
    expect(byKey.get(`session/part/${sessionID}/msg_1/prt_2`)).toMatchObject({
      data: { text: "last" },
    });
    expect(byKey.get(`session/other/${sessionID}/public_transcript_v2`)).toEqual({
      type: "public_transcript_v2",
      key: `session/other/${sessionID}/public_transcript_v2`,
      data: { turns: [] },
    });
  });

  it("refuses only an item over the item limit: 200, the rest applied, the refused one named", async () => {
    const limit = 16 * 1024 * 1024; // the default share_max_item_bytes
    const huge = [
      { file: "huge.bin", before: "", after: "x".repeat(limit), additions: 1, deletions: 0 },
    ];
    const answer = await sync(secret, [
      {
        type: "part",
        data: { id: "prt_3", sessionID, messageID: "msg_1", type: "text", text: "kept" },
      },
      { type: "session_diff", data: huge },
    ]);
    expect(answer.status).toBe(200);
    expect(answer.body.ignored).toEqual([
      {
        index: 1,
        key: `session/diff/${sessionID}`,
        code: "ERR_SHARE_TOO_LARGE",
        reason: expect.stringMatching(new RegExp(`more than the limit of ${limit}`)),
      },
    ]);
    const stored = await call(base, "GET", `/api/share/${id}/data`);
    const keys = stored.body.map((item: { key: string }) => item.key);
    expect(keys).toContain(`session/part/${sessionID}/msg_1/prt_3`);
    // The diff stored before is still there, unchanged.
    const diff = stored.body.find((item: { type: string }) => item.type === "session_diff");
    expect(diff.data[0].file).toBe("package-lock.json");
  });

  it("answers a second create for the session 200 with the share and no secret", async () => {
    const again = await call(base, "POST", "/api/share", { sessionID });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ id, url: `${base}/share/${id}` });
  });

  it("deletes with DELETE and a JSON body {secret}; then the share is 410 Gone", async () => {
    const deleted = await call(base, "DELETE", `/api/share/${id}`, { secret });
    expect(deleted.status).toBe(200);
    const data = await call(base, "GET", `/api/share/${id}/data`);
    expect(data.status).toBe(410);
    expect(data.body.error.code).toBe("ERR_SHARE_DELETED");
  });
});
