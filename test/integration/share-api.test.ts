// The live-share HTTP API against a real server on port 0: every status of docs/protocol.md, key
// validation, idempotent re-sync, concurrent syncs, size limits, malformed bodies, the older
// endpoints and the viewer page route.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { call, sessionItems, sessionOf } from "../helpers/share.js";

let test: TestServer;
let base: string;
beforeAll(async () => {
  test = await startTestServer({
    shareMaxBodyBytes: 8 * 1024 * 1024,
    shareMaxItemBytes: 1024 * 1024,
  });
  base = test.server.url;
});
afterAll(async () => {
  await test.stop();
});

let counter = 0;
/** A new share: its id, session and secret. */
async function newShare() {
  const id = `shr${String(++counter).padStart(5, "0")}`;
  const sessionID = sessionOf(id);
  const created = await call(base, "POST", "/api/share", { sessionID });
  expect(created.status).toBe(201);
  return { id, sessionID, secret: created.body.secret as string, created };
}

describe("POST /api/share", () => {
  it("answers 201 {id, secret, url} with the last 8 characters as id, never cached", async () => {
    const { id, created } = await newShare();
    expect(created.body.id).toBe(id);
    expect(created.body.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(created.body.url).toBe(`${base}/share/${id}`);
    expect(created.headers.get("cache-control")).toBe("no-store");
  });

  it("answers 200 {id, url} without a secret for a taken id, never rotating it", async () => {
    const { id, sessionID, secret } = await newShare();
    const again = await call(base, "POST", "/api/share", { sessionID });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ id, url: `${base}/share/${id}` });
    expect(again.text).not.toContain(secret);
    const other = await call(base, "POST", "/api/share", { sessionID: `other_${sessionID}` });
    expect(other.status).toBe(200);
    expect(other.body.secret).toBeUndefined();
    // The secret still works: nothing was rotated.
    const synced = await call(base, "POST", `/api/share/${id}/sync`, { secret, data: [] });
    expect(synced.status).toBe(200);
  });

  it("gives only one of two concurrent creates of the same id", async () => {
    const sessionID = sessionOf("racer001");
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => call(base, "POST", "/api/share", { sessionID })),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 200, 200, 201]);
    expect(answers.filter((a) => a.body.secret !== undefined)).toHaveLength(1);
  });

  it("answers 400 naming the bad value for a bad session id or body", async () => {
    const short = await call(base, "POST", "/api/share", { sessionID: "short" });
    expect(short.status).toBe(400);
    expect(short.body.error.code).toBe("ERR_SHARE_REQUEST");
    expect(short.body.error.message).toContain('"short"');
    const missing = await call(base, "POST", "/api/share", {});
    expect(missing.status).toBe(400);
    expect(missing.body.error.message).toMatch(
      /share create: sessionID must be a string, got undefined/,
    );
    const notJson = await call(base, "POST", "/api/share", "{oops");
    expect(notJson.status).toBe(400);
    expect(notJson.body.error.message).toMatch(/share create: body is not JSON/);
    expect(notJson.headers.get("cache-control")).toBe("no-store");
  });
});

describe("POST /api/share/:id/sync", () => {
  it("stores items, answers {seq, accepted, ignored}, and GET data returns them", async () => {
    const { id, sessionID, secret } = await newShare();
    const items = sessionItems(sessionID, 2);
    const synced = await call(base, "POST", `/api/share/${id}/sync`, { secret, data: items });
    expect(synced.status).toBe(200);
    expect(synced.body).toEqual({ seq: 4, accepted: 4, written: 4, ignored: [], ignoredCount: 0 });
    expect(synced.headers.get("cache-control")).toBe("no-store");
    const data = await call(base, "GET", `/api/share/${id}/data`);
    expect(data.status).toBe(200);
    expect(data.headers.get("x-share-seq")).toBe("4");
    expect(data.headers.get("cache-control")).toBe("no-store");
    expect(data.body).toEqual([
      { type: "session", key: `session/info/${sessionID}`, data: items[0]?.data },
      { type: "message", key: `session/message/${sessionID}/msg_1`, data: items[1]?.data },
      { type: "part", key: `session/part/${sessionID}/msg_1/prt_0`, data: items[2]?.data },
      { type: "part", key: `session/part/${sessionID}/msg_1/prt_1`, data: items[3]?.data },
    ]);
  });

  it("ignores items off the key schema and says why, storing the rest", async () => {
    const { id, sessionID, secret } = await newShare();
    const data = [
      { type: "session", data: { id: sessionID } },
      { type: "bogus type", data: {} },
      { type: "part", data: { id: "p/1", messageID: "m" } },
      { type: "message", data: { id: "m", sessionID: "someone_else" } },
      "not an item",
    ];
    const synced = await call(base, "POST", `/api/share/${id}/sync`, { secret, data });
    expect(synced.status).toBe(200);
    expect(synced.body.accepted).toBe(1);
    expect(synced.body.ignored.map((i: { index: number }) => i.index)).toEqual([1, 2, 3, 4]);
    expect(synced.body.ignored[0].reason).toMatch(/item type "bogus type"/);
    expect(synced.body.ignored[1].reason).toMatch(/id "p\/1" is not a valid id/);
    expect(synced.body.ignored[2].reason).toMatch(/"someone_else" is not the share's session/);
    const stored = await call(base, "GET", `/api/share/${id}/data`);
    expect(stored.body.map((item: { key: string }) => item.key)).toEqual([
      `session/info/${sessionID}`,
    ]);
  });

  it("is idempotent: the same items again write nothing new; a change wins", async () => {
    const { id, sessionID, secret } = await newShare();
    const items = sessionItems(sessionID, 1);
    const first = await call(base, "POST", `/api/share/${id}/sync`, { secret, data: items });
    const again = await call(base, "POST", `/api/share/${id}/sync`, { secret, data: items });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({
      seq: first.body.seq,
      accepted: 3,
      written: 0,
      ignored: [],
      ignoredCount: 0,
    });
    const changed = sessionItems(sessionID, 1, "changed");
    const third = await call(base, "POST", `/api/share/${id}/sync`, { secret, data: changed });
    expect(third.body).toMatchObject({ seq: first.body.seq + 1, written: 1 });
    const stored = await call(base, "GET", `/api/share/${id}/data`);
    expect(stored.body.at(-1).data.text).toBe("changed 0");
    // Within one request the last value of a key wins.
    const twice = [
      { type: "part", data: { id: "prt_0", messageID: "msg_1", text: "a" } },
      { type: "part", data: { id: "prt_0", messageID: "msg_1", text: "b" } },
    ];
    const fourth = await call(base, "POST", `/api/share/${id}/sync`, { secret, data: twice });
    expect(fourth.body).toMatchObject({ accepted: 1, written: 1 });
    expect((await call(base, "GET", `/api/share/${id}/data`)).body.at(-1).data.text).toBe("b");
  });

  it("loses nothing to 20 concurrent syncs: all keys present, seqs 1..20 without gaps", async () => {
    const { id, sessionID, secret } = await newShare();
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        call(base, "POST", `/api/share/${id}/sync`, {
          secret,
          data: [{ type: "part", data: { id: `prt_${i}`, messageID: "msg_1", sessionID, n: i } }],
        }),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    expect(answers.map((a) => a.body.seq).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    const stored = await call(base, "GET", `/api/share/${id}/data`);
    expect(stored.body).toHaveLength(20);
    expect(stored.headers.get("x-share-seq")).toBe("20");
  });

  it("answers 401 for a wrong or missing secret (never 500) and 404 for no share", async () => {
    const { id, sessionID } = await newShare();
    const data = sessionItems(sessionID);
    const wrong = await call(base, "POST", `/api/share/${id}/sync`, { secret: "nope", data });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe("ERR_SHARE_SECRET");
    const missing = await call(base, "POST", `/api/share/${id}/sync`, { data });
    expect(missing.status).toBe(401);
    expect(missing.body.error.message).toMatch(/secret is missing/);
    const typed = await call(base, "POST", `/api/share/${id}/sync`, { secret: 42, data });
    expect(typed.status).toBe(401);
    const none = await call(base, "POST", "/api/share/nosuchid/sync", { secret: "x", data });
    expect(none.status).toBe(404);
    expect(none.body.error.code).toBe("ERR_SHARE_NOT_FOUND");
    const invalid = await call(base, "POST", "/api/share/bad%2Fid/sync", { secret: "x", data });
    expect(invalid.status).toBe(404);
    expect((await call(base, "GET", `/api/share/${id}/data`)).body).toEqual([]);
  });

  it("answers 400 for malformed bodies and stays fine for the next request", async () => {
    const { id, sessionID, secret } = await newShare();
    for (const body of ["{not json", "[]", "null", JSON.stringify({ secret, data: "x" })]) {
      const answer = await call(base, "POST", `/api/share/${id}/sync`, body);
      expect(answer.status, body).toBe(400);
      expect(answer.body.error.code).toBe("ERR_SHARE_REQUEST");
    }
    const dataMessage = await call(base, "POST", `/api/share/${id}/sync`, { secret, data: "x" });
    expect(dataMessage.body.error.message).toBe('share sync: data must be an array, got "x"');
    const ok = await call(base, "POST", `/api/share/${id}/sync`, {
      secret,
      data: sessionItems(sessionID),
    });
    expect(ok.status).toBe(200);
    expect(ok.body.seq).toBe(3);
  });

  it("stores values over 128 KiB (the original failed there), up to the item limit", async () => {
    const { id, sessionID, secret } = await newShare();
    const big = "x".repeat(700 * 1024);
    const data = [{ type: "part", data: { id: "big", messageID: "m", sessionID, text: big } }];
    const synced = await call(base, "POST", `/api/share/${id}/sync`, { secret, data });
    expect(synced.status).toBe(200);
    const stored = await call(base, "GET", `/api/share/${id}/data`);
    expect(stored.body[0].data.text).toHaveLength(big.length);
  });

  it("streams a multi-MiB state whole to a reader that pauses, with its length; HEAD has none", async () => {
    const { id, sessionID, secret } = await newShare();
    const text = (n: number) => `${n}${"é".repeat(300 * 1024)}`; // 600 KiB of UTF-8 each
    const data = Array.from({ length: 8 }, (_, n) => ({
      type: "part",
      data: { id: `p${n}`, messageID: "m", sessionID, text: text(n) },
    }));
    expect((await call(base, "POST", `/api/share/${id}/sync`, { secret, data })).status).toBe(200);
    const response = await fetch(`${base}/api/share/${id}/data`);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const chunks: Uint8Array[] = [];
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      if (chunks.length === 2) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const bytes = Buffer.concat(chunks);
    expect(bytes.byteLength).toBe(Number(response.headers.get("content-length")));
    expect(response.headers.get("x-share-seq")).toBe("8");
    const items = JSON.parse(bytes.toString("utf8"));
    expect(items.map((item: { data: { text: string } }) => item.data.text)).toEqual(
      data.map((item) => item.data.text),
    );
    const legacy = await call(base, "GET", `/share_data?id=${id}`);
    expect(legacy.body).toEqual({ messages: {} }); // parts without their message are left out
    const head = await fetch(`${base}/share_data?id=${id}`, { method: "HEAD" });
    expect(Number(head.headers.get("content-length"))).toBe(Buffer.byteLength(legacy.text));
    expect(await head.text()).toBe("");
  });

  it("refuses an item over the item limit alone, naming it, and applies the rest (200)", async () => {
    const { id, sessionID, secret } = await newShare();
    const data = [
      { type: "session", data: { id: sessionID } },
      { type: "part", data: { id: "huge", messageID: "m", text: "x".repeat(1024 * 1024 + 1) } },
    ];
    const answer = await call(base, "POST", `/api/share/${id}/sync`, { secret, data });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ accepted: 1, written: 1, ignoredCount: 1 });
    expect(answer.body.ignored).toEqual([
      {
        index: 1,
        key: `session/part/${sessionID}/m/huge`,
        code: "ERR_SHARE_TOO_LARGE",
        reason: expect.stringMatching(
          /item 1 .* is 1048\d{3} bytes of JSON, more than the limit of 1048576/,
        ),
      },
    ]);
    const stored = await call(base, "GET", `/api/share/${id}/data`);
    expect(stored.body.map((item: { key: string }) => item.key)).toEqual([
      `session/info/${sessionID}`,
    ]);
  });

  it("answers 413 for more than 10,000 items, naming the count and the limit, quickly", async () => {
    const { id, sessionID, secret } = await newShare();
    const data: unknown[] = Array.from({ length: 10_001 }, () => 1);
    data[0] = { type: "session", data: { id: sessionID } };
    const started = performance.now();
    const answer = await call(base, "POST", `/api/share/${id}/sync`, { secret, data });
    expect(performance.now() - started).toBeLessThan(2000);
    expect(answer.status).toBe(413);
    expect(answer.headers.get("cache-control")).toBe("no-store");
    expect(answer.body.error.code).toBe("ERR_SHARE_TOO_LARGE");
    expect(answer.body.error.message).toBe(
      "share sync: the request has 10001 items, more than the limit of 10000 per request; nothing was applied",
    );
    expect((await call(base, "GET", `/api/share/${id}/data`)).body).toEqual([]);
    const limit = await call(base, "POST", `/api/share/${id}/sync`, {
      secret,
      data: data.slice(0, 10_000),
    });
    expect(limit.status).toBe(200);
  });

  it("lists the first 100 ignored items and counts them all in ignoredCount", async () => {
    const { id, sessionID, secret } = await newShare();
    const data: unknown[] = Array.from({ length: 5_000 }, () => 1);
    data.push({ type: "session", data: { id: sessionID } });
    const answer = await call(base, "POST", `/api/share/${id}/sync`, { secret, data });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ accepted: 1, written: 1, ignoredCount: 5_000 });
    expect(answer.body.ignored).toHaveLength(100);
    expect(answer.body.ignored[0]).toEqual({
      index: 0,
      reason: "item 0: must be an object {type, data}",
    });
    expect(answer.body.ignored[99].index).toBe(99);
  });

  it("answers 413 for a body over the body limit", async () => {
    const { id, secret } = await newShare();
    const body = JSON.stringify({ secret, data: [], pad: "x".repeat(8 * 1024 * 1024) });
    const answer = await call(base, "POST", `/api/share/${id}/sync`, body);
    expect(answer.status).toBe(413);
    expect(answer.body.error.message).toMatch(
      /share sync: request body of \d+ bytes is more than the limit of 8388608/,
    );
    const after = await call(base, "GET", `/api/share/${id}/data`);
    expect(after.status).toBe(200);
  });
});

describe("DELETE /api/share/:id", () => {
  it("needs the secret, removes the share (410 after) and frees its id", async () => {
    const { id, sessionID, secret } = await newShare();
    await call(base, "POST", `/api/share/${id}/sync`, { secret, data: sessionItems(sessionID) });
    expect((await call(base, "DELETE", `/api/share/${id}`, { secret: "wrong" })).status).toBe(401);
    const deleted = await call(base, "DELETE", `/api/share/${id}`, { secret });
    expect(deleted.status).toBe(200);
    expect(deleted.headers.get("cache-control")).toBe("no-store");
    const gone = await call(base, "GET", `/api/share/${id}/data`);
    expect(gone.status).toBe(410);
    expect(gone.body.error.code).toBe("ERR_SHARE_DELETED");
    expect((await call(base, "DELETE", `/api/share/${id}`, { secret })).status).toBe(410);
    const sync = await call(base, "POST", `/api/share/${id}/sync`, { secret, data: [] });
    expect(sync.status).toBe(410);
    // Nothing of it is left in the store.
    const left: unknown[] = [];
    for await (const entry of test.server.store.range(["share", id])) left.push(entry.key);
    expect(left).toEqual([]);
    // … but its tombstone, until it is created again.
    expect(await test.server.store.get(["share-tombstone", id])).toBeDefined();
    const again = await call(base, "POST", "/api/share", { sessionID });
    expect(again.status).toBe(201);
    expect(again.body.secret).not.toBe(secret);
    expect((await call(base, "GET", `/api/share/${id}/data`)).body).toEqual([]);
    expect(await test.server.store.get(["share-tombstone", id])).toBeUndefined();
  });
});

describe("the older OpenCode endpoints", () => {
  it("create, sync one key, read and delete by session id", async () => {
    const sessionID = sessionOf("legacy01");
    const created = await call(base, "POST", "/share_create", { sessionID });
    expect(created.status).toBe(201);
    const { secret } = created.body;
    const key = `session/info/${sessionID}`;
    const synced = await call(base, "POST", "/share_sync", {
      sessionID,
      secret,
      key,
      content: { id: sessionID, title: "t" },
    });
    expect(synced.status).toBe(200);
    expect(synced.body).toMatchObject({ seq: 1, accepted: 1, ignored: [], ignoredCount: 0 });
    const foreign = await call(base, "POST", "/share_sync", {
      sessionID,
      secret,
      key: "session/foo",
      content: 1,
    });
    expect(foreign.status).toBe(200);
    expect(foreign.body.ignored[0].reason).toBe('key "session/foo" does not match the key schema');
    const share = await call(base, "POST", "/share_sync", {
      sessionID,
      secret,
      key: `session/share/${sessionID}`,
      content: 1,
    });
    expect(share.body.accepted).toBe(0);
    const data = await call(base, "GET", "/share_data?id=legacy01");
    expect(data.status).toBe(200);
    expect(data.body).toEqual({ info: { id: sessionID, title: "t" }, messages: {} });
    expect(data.headers.get("cache-control")).toBe("no-store");
    expect((await call(base, "POST", "/share_delete", { sessionID, secret: "bad" })).status).toBe(
      401,
    );
    expect((await call(base, "POST", "/share_delete", { sessionID, secret })).status).toBe(200);
    expect((await call(base, "GET", "/share_data?id=legacy01")).status).toBe(410);
    expect((await call(base, "GET", "/share_data?id=never001")).status).toBe(404);
  });
});

describe("GET /s/<id>", () => {
  it("serves the viewer page (404 for an unknown share) and only files of its directory", async () => {
    const { id } = await newShare();
    const page = await fetch(`${base}/s/${id}`);
    const unknown = await fetch(`${base}/s/zzzzzzzz`);
    if (page.status === 503) {
      // dist/viewer is not built in this checkout: the answer says so, without the path on disk.
      const text = await page.text();
      expect(JSON.parse(text).error.message).toMatch(/the page is not built/);
      expect(text).not.toContain("dist/viewer");
      return;
    }
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expect(page.headers.get("content-security-policy")).toContain("connect-src 'self'");
    const html = await page.text();
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toBe(html);
    const script = html.match(/src="(\/s\/assets\/[^"]+)"/)?.[1];
    if (script) {
      const asset = await fetch(`${base}${script}`);
      expect(asset.status).toBe(200);
      expect(asset.headers.get("content-type")).toMatch(/javascript/);
    }
    for (const path of [
      "/s/assets/..%2F..%2Fpackage.json",
      "/s/assets/.hidden.js",
      "/s/assets/index.ts",
      "/s/assets/%2e%2e",
    ]) {
      expect((await fetch(`${base}${path}`)).status, path).toBe(404);
    }
  });
});

describe("error answers outside the share routes' handlers", () => {
  it("are JSON and never cached: router 404/405 under /api/share and viewer asset 404s", async () => {
    const checks: [string, string, number, string][] = [
      ["GET", "/api/share", 405, "ERR_METHOD_NOT_ALLOWED"],
      ["PUT", "/api/share/abc", 405, "ERR_METHOD_NOT_ALLOWED"],
      ["GET", "/api/share/abc/sync/more", 404, "ERR_NOT_FOUND"],
      ["GET", "/s/assets/missing.js", 404, "ERR_NOT_FOUND"],
      ["GET", "/s/assets/..%2F..%2Fpackage.json", 404, "ERR_NOT_FOUND"],
    ];
    for (const [method, path, status, code] of checks) {
      const answer = await fetch(`${base}${path}`, { method });
      expect(answer.status, path).toBe(status);
      expect(answer.headers.get("cache-control"), path).toBe("no-store");
      expect(answer.headers.get("content-type"), path).toMatch(/^application\/json/);
      expect(((await answer.json()) as { error: { code: string } }).error.code, path).toBe(code);
    }
  });
});
