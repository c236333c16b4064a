// OpenCode's older share client (OPENCODE_API=<server>) against a real server on port 0: the
// requests exactly as it sends them — JSON strings with no headers (fetch labels them
// text/plain), create once per session (and again after a reinstall), one /share_sync per key,
// a JSON /share_delete — and what its share page reads: /share_data assembled as a session, the
// link's /share/<id> form, 426 on /share_poll without an upgrade, and CORS for its browser page.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { legacyPost } from "../helpers/opencode.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

const maxItemBytes = 64 * 1024;
let test: TestServer;
let base: string;
beforeAll(async () => {
  test = await startTestServer({ shareMaxItemBytes: maxItemBytes });
  base = test.server.url;
});
afterAll(async () => {
  await test.stop();
});

const sessionID = "ses_legacyclient01";
const id = sessionID.slice(-8);
const user = { id: "msg_01", sessionID, role: "user", time: { created: 1 } };
const assistant = {
  id: "msg_02",
  sessionID,
  role: "assistant",
  modelID: "claude-sonnet",
  providerID: "anthropic",
  path: { cwd: "/w", root: "/w" },
  cost: 0,
  tokens: { input: 1, output: 2, reasoning: 0, cache: { read: 0, write: 0 } },
  time: { created: 2, completed: 3 },
};
const part = (messageID: string, partID: string, text: string) => ({
  id: partID,
  sessionID,
  messageID,
  type: "text",
  text,
});

describe("OpenCode's older client", () => {
  let secret: string;

  it("creates a share with a body sent as text/plain, and gets {url, secret}", async () => {
    const created = await legacyPost(base, "/share_create", { sessionID });
    expect(created.status).toBe(201);
    expect(created.contentType).toMatch(/^application\/json/);
    const body = created.body as { url: string; secret: string };
    secret = body.secret;
    expect(body.secret).toEqual(expect.any(String));
    expect(body.url).toBe(`${base}/share/${id}`);
  });

  it("syncs its keys one request at a time, each answered 200 with JSON", async () => {
    const syncs: [string, unknown][] = [
      [`session/info/${sessionID}`, { id: sessionID, title: "fix the login", version: "0.1" }],
      [`session/message/${sessionID}/msg_01`, user],
      [`session/part/${sessionID}/msg_01/prt_01`, part("msg_01", "prt_01", "**login** fails")],
      [`session/message/${sessionID}/msg_02`, assistant],
      [`session/part/${sessionID}/msg_02/prt_02`, part("msg_02", "prt_02", "fixed")],
      [`session/part/${sessionID}/msg_02/prt_01`, part("msg_02", "prt_01", "looking")],
    ];
    for (const [key, content] of syncs) {
      const answer = await legacyPost(base, "/share_sync", { sessionID, secret, key, content });
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ accepted: 1 });
    }
  });

  it("can never store a key outside session/ (share/deleted is the server's own frame)", async () => {
    for (const key of [
      "share/deleted",
      `share/deleted/${sessionID}`,
      `session/share/${sessionID}`,
    ]) {
      const answer = await legacyPost(base, "/share_sync", {
        sessionID,
        secret,
        key,
        content: { id, deletedAt: 1 },
      });
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ accepted: 0, ignoredCount: 1 });
    }
  });

  it("is told the share's link, without a secret, when it creates the share again", async () => {
    const again = await legacyPost(base, "/share_create", { sessionID });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ id, url: `${base}/share/${id}` });
    // Its syncs without the secret stay refused.
    const refused = await legacyPost(base, "/share_sync", {
      sessionID,
      key: `session/info/${sessionID}`,
      content: { id: sessionID, title: "taken over" },
    });
    expect(refused.status).toBe(401);
    // A caller that sends the secret proves it, and gets it back; nothing was rotated.
    const proved = await legacyPost(base, "/share_create", { sessionID, secret });
    expect(proved.status).toBe(200);
    expect(proved.body).toEqual({ id, url: `${base}/share/${id}`, secret });
  });

  it("lets its share page read /share_data as {info, messages: {id: {...message, parts}}}", async () => {
    const response = await fetch(`${base}/share_data?id=${id}`);
    expect(response.status).toBe(200);
    const data = (await response.json()) as {
      info: { title: string; version: string };
      messages: Record<string, { role: string; modelID?: string; parts: { id: string }[] }>;
    };
    expect(data.info.title.substring(0, 700)).toBe("fix the login");
    expect(Object.keys(data.messages)).toEqual(["msg_01", "msg_02"]);
    expect(data.messages.msg_02?.modelID).toBe("claude-sonnet");
    // Parts in id order, as OpenCode orders them.
    expect(data.messages.msg_02?.parts.map((p) => p.id)).toEqual(["prt_01", "prt_02"]);
    expect(data.messages.msg_01?.parts.map((p) => p.id)).toEqual(["prt_01"]);
    const unknown = await fetch(`${base}/share_data?id=nothing1`);
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe(
      "ERR_SHARE_NOT_FOUND",
    );
  });

  it("has its link /share/<id> serve the viewer page, as /s/<id> does", async () => {
    for (const path of [`/share/${id}`, `/s/${id}`]) {
      const page = await fetch(`${base}${path}`);
      // 200 where the page is built; 500 ERR_VIEWER_NOT_BUILT otherwise: the route exists either way.
      expect([200, 500]).toContain(page.status);
      if (page.status === 500) {
        expect(((await page.json()) as { error: { code: string } }).error.code).toBe(
          "ERR_VIEWER_NOT_BUILT",
        );
      } else expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    }
  });

  it("answers 426 with a JSON error to GET /share_poll without an upgrade", async () => {
    const answer = await fetch(`${base}/share_poll?id=${id}`);
    expect(answer.status).toBe(426);
    expect(answer.headers.get("content-type")).toMatch(/^application\/json/);
    expect(((await answer.json()) as { error: { code: string } }).error.code).toBe(
      "ERR_UPGRADE_REQUIRED",
    );
  });

  it("deletes with a JSON answer; the share is then 410 Gone, not 404", async () => {
    const deleted = await legacyPost(base, "/share_delete", { sessionID, secret });
    expect(deleted.status).toBe(200);
    expect(deleted.contentType).toMatch(/^application\/json/);
    const gone = await fetch(`${base}/share_data?id=${id}`);
    expect(gone.status).toBe(410);
    expect(((await gone.json()) as { error: { code: string } }).error.code).toBe(
      "ERR_SHARE_DELETED",
    );
    const sync = await legacyPost(base, "/share_sync", {
      sessionID,
      secret,
      key: `session/info/${sessionID}`,
      content: {},
    });
    expect(sync.status).toBe(410);
  });

  it("refuses one key over the item limit with 413 on /share_sync (one item is its whole request)", async () => {
    const other = "ses_legacyclient02";
    const created = await legacyPost(base, "/share_create", { sessionID: other });
    const { secret: otherSecret } = created.body as { secret: string };
    const answer = await legacyPost(base, "/share_sync", {
      sessionID: other,
      secret: otherSecret,
      key: `session/part/${other}/m/p`,
      content: { id: "p", messageID: "m", text: "x".repeat(maxItemBytes) },
    });
    expect(answer.status).toBe(413);
    expect((answer.body as { error: { code: string } }).error.code).toBe("ERR_SHARE_TOO_LARGE");
  });
});

describe("cross-origin use of the share API", () => {
  it("answers a preflight with 204, the methods, content-type and authorization, and a max age", async () => {
    for (const path of ["/api/share", "/api/share/abcdefgh/sync", "/share_create", "/share_data"]) {
      const preflight = await fetch(`${base}${path}`, {
        method: "OPTIONS",
        headers: {
          origin: "https://elsewhere.example",
          "access-control-request-method": "POST",
          "access-control-request-headers": "content-type",
        },
      });
      expect(preflight.status, path).toBe(204);
      expect(preflight.headers.get("access-control-allow-origin")).toBe("*");
      expect(preflight.headers.get("access-control-allow-headers")).toBe(
        "content-type, authorization",
      );
      expect(preflight.headers.get("access-control-allow-methods")).toContain("OPTIONS");
      expect(Number(preflight.headers.get("access-control-max-age"))).toBeGreaterThan(0);
      expect(preflight.headers.get("access-control-allow-credentials")).toBeNull();
    }
  });

  it("puts Access-Control-Allow-Origin: * on answers and errors of the share API", async () => {
    const created = await fetch(`${base}/api/share`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: "https://elsewhere.example" },
      body: JSON.stringify({ sessionID: "ses_corscheck01" }),
    });
    expect(created.status).toBe(201);
    expect(created.headers.get("access-control-allow-origin")).toBe("*");
    const missing = await fetch(`${base}/api/share/nothing2/data`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get("access-control-allow-origin")).toBe("*");
    const bad = await fetch(`${base}/share_sync`, { method: "POST", body: "{oops" });
    expect(bad.status).toBe(400);
    expect(bad.headers.get("access-control-allow-origin")).toBe("*");
  });
});
