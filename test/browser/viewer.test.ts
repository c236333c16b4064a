// The web viewer in a real browser against a real server: Debian's Chromium (playwright-core)
// opens /s/<id>, sees the published messages rendered (hostile text stays text), sees a part
// synced later appear live (followed only when the reader is at the bottom), is live again
// within 2 s of the server restarting on the same port and data dir (viewer-frames.test.ts
// checks the immediate retries), and shows the clear page for an unknown or deleted share (and
// stops reconnecting). No request leaves the server. Screenshots go to
// test-artifacts/viewer/. Without Chromium: a failure under CI=true, a skip otherwise.

import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { chromiumMissing, launchChromium, type TestBrowser } from "./chromium.js";
import { ensureViewerBuilt } from "./viewer-build.js";

const root = resolve(import.meta.dirname, "../..");
const artifacts = join(root, "test-artifacts/viewer");
const sessionID = "ses_browser0viewer01";
const shareId = sessionID.slice(-8);
const xss = `<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>`;

if (chromiumMissing !== undefined && process.env.CI) {
  describe("web viewer in Chromium", () => {
    it("has a browser to run in (required under CI=true)", () => {
      throw new Error(`browser test under CI=true: ${chromiumMissing}`);
    });
  });
}

describe.skipIf(chromiumMissing !== undefined)("web viewer in Chromium", () => {
  let server: TestServer;
  let browser: TestBrowser;
  let page: Page;
  let base: string;
  let secret: string;
  const requests: string[] = [];
  const pageErrors: string[] = [];
  const sockets: string[] = [];

  beforeAll(async () => {
    await ensureViewerBuilt();
    await mkdir(artifacts, { recursive: true });
    server = await startTestServer();
    base = server.server.url;
    browser = await launchChromium();
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
    page.on("request", (request) => requests.push(request.url()));
    page.on("pageerror", (error) => pageErrors.push(error.message));
    page.on("websocket", (socket) => sockets.push(socket.url()));
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it("creates a share and publishes a session", async () => {
    const created = await api("POST", "/api/share", { sessionID });
    expect(created.status).toBe(201);
    const body = (await created.json()) as { id: string; secret: string };
    expect(body.id).toBe(shareId);
    secret = body.secret;
    await sync(initialItems());
  });

  it("opens /s/<id> and shows the session, its messages and its parts", async () => {
    const response = await page.goto(`${base}/s/${shareId}`);
    expect(response?.status()).toBe(200);
    await waitForStatus(page, "live");
    expect(await text(page, ".status")).toBe("Live");
    // It asks for version 2 of the frames: a full state ends with its state frame.
    expect(sockets).toEqual([`${base.replace("http", "ws")}/share_poll?id=${shareId}&v=2`]);
    await expect.poll(() => text(page, ".session-title")).toBe("Browser test session");
    expect(await page.locator(".message").count()).toBe(2);
    expect(await page.locator(".message-user").count()).toBe(1);
    expect(await page.locator(".message-assistant").count()).toBe(1);
    expect(await text(page, ".message-user .part-text")).toBe(`Please look: ${xss}`);
    // Hostile content is text: no element was created from it and no script ran.
    expect(await page.locator(".messages img, .messages script").count()).toBe(0);
    expect(await page.evaluate("window.__xss")).toBeUndefined();
    // Reasoning is collapsed, the completed shell call shows its command and output.
    expect(await page.locator(".part-reasoning").getAttribute("open")).toBeNull();
    expect(await text(page, ".part-tool .tool-name")).toBe("Shell");
    expect(await text(page, ".part-tool .tool-command")).toBe("$ ls -la");
    expect(await text(page, ".part-tool .tool-output")).toContain("README.md");
    // Filtered out: the running tool, the step-finish, the synthetic text.
    expect(await page.locator(".part-tool").count()).toBe(1);
    expect(await page.getByText("synthetic reminder").count()).toBe(0);
    // Totals over the assistant message, and the session diff.
    expect(await text(page, ".totals")).toContain("$0.04");
    expect(await text(page, ".diff-file-name")).toBe("src/app.ts");
    expect(await page.locator(".diff-add").count()).toBe(1);
  });

  it("shows a part synced later live, without a reload", async () => {
    await page.locator(".part-reasoning summary").click(); // an open <details> stays open
    await sync([textPart("msg_02", "prt_05", "A part that arrived live")]);
    await expect.poll(() => page.getByText("A part that arrived live").count()).toBe(1);
    await sync([toolPart("msg_02", "prt_04", "completed")]);
    await expect.poll(() => page.locator(".part-tool").count()).toBe(2);
    expect(await page.locator(".part-reasoning").getAttribute("open")).not.toBeNull();
    await page.evaluate("window.scrollTo(0, 0)");
    await page.screenshot({ path: join(artifacts, "viewer-live.png"), fullPage: true });
  });

  it("follows new content only when the reader is at the bottom", async () => {
    await page.setViewportSize({ width: 1000, height: 300 });
    const atBottom = "window.innerHeight + window.scrollY >= document.body.scrollHeight - 2";
    await page.evaluate("window.scrollTo(0, document.body.scrollHeight)");
    await sync([textPart("msg_02", "prt_07", "Followed\n\nline\n\nline\n\nline")]);
    await expect.poll(() => page.getByText("Followed").count()).toBe(1);
    await expect.poll(() => page.evaluate(atBottom)).toBe(true);
    await page.evaluate("window.scrollTo(0, 0)");
    await sync([textPart("msg_02", "prt_08", "Not followed\n\nline\n\nline")]);
    await expect.poll(() => page.getByText("Not followed").count()).toBe(1);
    expect(await page.evaluate("window.scrollY")).toBe(0);
    await page.setViewportSize({ width: 1000, height: 900 });
  });

  it("is live again within 2 s of a restarted server listening, and catches up", async () => {
    await server.halt();
    await waitForStatus(page, "reconnecting");
    expect(await text(page, ".status")).toBe("Reconnecting…");
    expect(await page.locator(".retry-now").isVisible()).toBe(true);
    // Long enough down for the backoff to reach its cap.
    await new Promise((done) => setTimeout(done, 3000));
    await server.restart();
    const listening = Date.now();
    await waitForStatus(page, "live", 10_000);
    expect(Date.now() - listening).toBeLessThan(2000);
    expect(await page.locator(".retry-now").isVisible()).toBe(false);
    // The viewer client reconnected asking only for what it missed.
    expect(sockets.at(-1)).toMatch(/[?&]since=\d+/);
    await sync([textPart("msg_02", "prt_06", "Synced after the restart")]);
    await expect.poll(() => page.getByText("Synced after the restart").count()).toBe(1);
    expect(await page.locator(".message").count()).toBe(2);
    expect(await page.getByText("A part that arrived live").count()).toBe(1);
  }, 40_000);

  it("shows the clear page when the share is deleted, and stops reconnecting", async () => {
    const deleted = await api("DELETE", `/api/share/${shareId}`, { secret });
    expect(deleted.status).toBe(200);
    await waitForStatus(page, "deleted");
    expect(await text(page, ".gone h1")).toBe("This share was deleted");
    expect(await text(page, ".status")).toBe("Deleted");
    expect(await page.locator(".message").count()).toBe(0);
    const socketsAfter = sockets.length;
    await new Promise((done) => setTimeout(done, 2000)); // longer than the backoff's cap
    expect(sockets.length).toBe(socketsAfter);
    expect(await page.locator(".retry-now").isVisible()).toBe(false);
    await page.screenshot({ path: join(artifacts, "viewer-deleted.png") });
  });

  it("answers an unknown share with 404 and a clear page", async () => {
    const response = await page.goto(`${base}/s/nosuch00`);
    expect(response?.status()).toBe(404);
    await waitForStatus(page, "not-found");
    expect(await text(page, ".gone h1")).toBe("Share not found");
    await page.screenshot({ path: join(artifacts, "viewer-not-found.png") });
  });

  it("made no request outside the server and threw no page error", () => {
    const outside = requests.filter(
      (url) => !url.startsWith(`${base}/`) && !url.startsWith("data:"),
    );
    expect(outside).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  async function api(method: string, path: string, body: unknown): Promise<Response> {
    return fetch(`${base}${path}`, {
      method,
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  }

  async function sync(data: unknown[]): Promise<void> {
    const response = await api("POST", `/api/share/${shareId}/sync`, { secret, data });
    expect(response.status, await response.clone().text()).toBe(200);
  }
});

async function waitForStatus(page: Page, status: string, timeout = 10_000): Promise<void> {
  await page.waitForSelector(`body[data-status="${status}"]`, { timeout });
}

async function text(page: Page, selector: string): Promise<string> {
  return (await page.locator(selector).first().textContent()) ?? "";
}

const now = Date.UTC(2026, 10, 30, 2, 0, 0);

function textPart(messageID: string, id: string, text: string, extra: object = {}) {
  return { type: "part", data: { id, sessionID, messageID, type: "text", text, ...extra } };
}

function toolPart(messageID: string, id: string, status: "running" | "completed") {
  const state =
    status === "running"
      ? { status, input: { command: "npm test" }, time: { start: now } }
      : {
          status,
          input: { command: "npm test" },
          output: "all tests passed",
          title: "npm test",
          metadata: {},
          time: { start: now, end: now + 2000 },
        };
  return {
    type: "part",
    data: { id, sessionID, messageID, type: "tool", callID: id, tool: "bash", state },
  };
}

function initialItems(): unknown[] {
  return [
    {
      type: "session",
      data: {
        id: sessionID,
        title: "Browser test session",
        directory: "/work/app",
        time: { created: now, updated: now },
      },
    },
    {
      type: "message",
      data: {
        id: "msg_01",
        sessionID,
        role: "user",
        time: { created: now },
        agent: "build",
        model: { providerID: "p", modelID: "m" },
      },
    },
    textPart("msg_01", "prt_01", `Please look: ${xss}`),
    textPart("msg_01", "prt_02", "synthetic reminder", { synthetic: true }),
    {
      type: "message",
      data: {
        id: "msg_02",
        sessionID,
        role: "assistant",
        time: { created: now + 1000 },
        providerID: "p",
        modelID: "m",
        cost: 0.042,
        tokens: { input: 1200, output: 300, reasoning: 50, cache: { read: 0, write: 0 } },
      },
    },
    {
      type: "part",
      data: {
        id: "prt_01",
        sessionID,
        messageID: "msg_02",
        type: "reasoning",
        text: "Thinking hard",
        time: { start: now, end: now + 500 },
      },
    },
    {
      type: "part",
      data: {
        id: "prt_02",
        sessionID,
        messageID: "msg_02",
        type: "tool",
        callID: "c1",
        tool: "bash",
        state: {
          status: "completed",
          input: { command: "ls -la" },
          output: "README.md\npackage.json",
          title: "ls -la",
          metadata: {},
          time: { start: now, end: now + 30 },
        },
      },
    },
    {
      type: "part",
      data: {
        id: "prt_03",
        sessionID,
        messageID: "msg_02",
        type: "step-finish",
        reason: "tool-calls",
      },
    },
    toolPart("msg_02", "prt_04", "running"),
    {
      type: "session_diff",
      data: [
        {
          file: "src/app.ts",
          additions: 1,
          deletions: 1,
          patch: "@@ -1 +1 @@\n-const a = 1\n+const a = 2\n",
        },
      ],
    },
  ];
}
