// The page against a scripted share_poll socket (playwright's routeWebSocket) in front of the real
// page: frames this branch's server does not send yet — the final `share/deleted` frame shows
// "deleted" at once and ends reconnecting; frames under keys the page does not know are skipped
// and later updates still show — and the immediate retries ("Retry now", `online`, the tab
// becoming visible), counted with the page's clock paused so no backoff timer can fire.

import type { Page, WebSocketRoute } from "playwright-core";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { chromiumMissing, launchChromium, type TestBrowser } from "./chromium.js";
import { ensureViewerBuilt } from "./viewer-build.js";

const sessionID = "ses_browser0frames01";
const shareId = sessionID.slice(-8);

if (chromiumMissing !== undefined && process.env.CI) {
  describe("web viewer frames in Chromium", () => {
    it("has a browser to run in (required under CI=true)", () => {
      throw new Error(`browser test under CI=true: ${chromiumMissing}`);
    });
  });
}

describe.skipIf(chromiumMissing !== undefined)("web viewer frames in Chromium", () => {
  let server: TestServer;
  let browser: TestBrowser;
  let page: Page;
  let sockets: WebSocketRoute[] = [];
  /** "down": every new socket is closed at once, as by a server going away. */
  let mode: "live" | "down" = "live";
  const pageErrors: string[] = [];

  beforeAll(async () => {
    await ensureViewerBuilt();
    server = await startTestServer();
    browser = await launchChromium();
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
    page.on("pageerror", (error) => pageErrors.push(error.message));
    // The share exists as far as the page can tell: its probe after a failed attempt finds it.
    await page.route(/\/api\/share\/[^/]+\/data$/, (route) =>
      route.fulfill({ status: 200, contentType: "application/json", body: "[]" }),
    );
    // Every viewer socket is answered by the test, never by the server.
    await page.routeWebSocket(/\/share_poll\?/, (socket) => {
      sockets.push(socket);
      if (mode === "down") socket.close({ code: 1001, reason: "going away" });
      else sendState(socket);
    });
  }, 60_000);

  beforeEach(() => {
    sockets = [];
    mode = "live";
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it("skips frames under keys it does not know and goes on showing updates", async () => {
    await page.goto(`${server.server.url}/s/${shareId}`);
    await page.waitForSelector('body[data-status="live"]');
    await expect.poll(() => page.getByText("First words").count()).toBe(1);
    const socket = sockets[0] as WebSocketRoute;
    socket.send(JSON.stringify({ key: "future/thing", content: { x: 1 }, seq: 4 }));
    socket.send(JSON.stringify({ key: "share/renamed", content: { to: "y" }, seq: 5 }));
    socket.send(JSON.stringify(textUpdate("prt_02", "Later words", 6)));
    await expect.poll(() => page.getByText("Later words").count()).toBe(1);
    expect(await page.locator("body").getAttribute("data-status")).toBe("live");
    expect(sockets).toHaveLength(1); // no resync: the seq stayed gapless
    expect(pageErrors).toEqual([]);
  });

  it("shows deleted on the share/deleted frame, before any close, and stops reconnecting", async () => {
    await page.goto(`${server.server.url}/s/${shareId}`);
    await page.waitForSelector('body[data-status="live"]');
    const socket = sockets[0] as WebSocketRoute;
    socket.send(
      JSON.stringify({ key: "share/deleted", content: { id: shareId, deletedAt: Date.now() } }),
    );
    await page.waitForSelector('body[data-status="deleted"]', { timeout: 2000 });
    expect(await page.locator(".gone h1").textContent()).toBe("This share was deleted");
    await new Promise((done) => setTimeout(done, 2000)); // longer than the backoff's cap
    expect(sockets).toHaveLength(1);
    expect(pageErrors).toEqual([]);
  });

  it('retries at once on "Retry now", on `online` and when the tab becomes visible', async () => {
    await page.clock.install();
    await page.goto(`${server.server.url}/s/${shareId}`);
    await page.waitForSelector('body[data-status="live"]');
    await page.clock.pauseAt(Date.now() + 60_000); // from now on no timer fires by itself
    mode = "down";
    (sockets[0] as WebSocketRoute).close({ code: 1001, reason: "going away" });
    await page.waitForSelector('body[data-status="reconnecting"]');
    expect(await page.locator(".retry-now").isVisible()).toBe(true);
    expect(sockets).toHaveLength(1);
    const triggers = [
      "document.querySelector('.retry-now').click()",
      "window.dispatchEvent(new Event('online'))",
      "document.dispatchEvent(new Event('visibilitychange'))",
    ];
    for (const [index, trigger] of triggers.entries()) {
      await page.evaluate(trigger);
      await expect.poll(() => sockets.length, { timeout: 5000 }).toBe(index + 2);
      // Let the page see that attempt closed: a retry while one is open does nothing.
      await new Promise((done) => setTimeout(done, 300));
    }
    // Nothing else opens one while the clock stands still: each attempt was one of the above.
    await new Promise((done) => setTimeout(done, 500));
    expect(sockets).toHaveLength(4);
    mode = "live";
    await page.evaluate(triggers[0] as string);
    await page.waitForSelector('body[data-status="live"]');
    expect(await page.locator(".retry-now").isVisible()).toBe(false);
    await page.clock.resume();
    expect(pageErrors).toEqual([]);
  });
});

function sendState(socket: WebSocketRoute): void {
  const frames = [
    { key: `session/info/${sessionID}`, content: { id: sessionID, title: "Frames" } },
    {
      key: `session/message/${sessionID}/msg_01`,
      content: { id: "msg_01", sessionID, role: "user", time: { created: 1 } },
    },
    textUpdate("prt_01", "First words"),
    { type: "state", seq: 3, epoch: "e1" },
  ];
  for (const frame of frames) socket.send(JSON.stringify(frame));
}

function textUpdate(id: string, text: string, seq?: number) {
  const frame = {
    key: `session/part/${sessionID}/msg_01/${id}`,
    content: { id, sessionID, messageID: "msg_01", type: "text", text },
  };
  return seq === undefined ? frame : { ...frame, seq };
}
