// The web viewer renders a share like a coding session, in a real browser against a real server:
// markdown (sanitized, links safe), highlighted code, coloured diffs, each tool by kind, todo
// lists, collapsed long output, no empty boxes or bare step labels, times in the reader's zone,
// dark mode, a 375 px screen without sideways scrolling; and nothing injected runs. Screenshots
// at desktop and mobile widths go to test-artifacts/viewer/ (kept by CI).

import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { chromiumMissing, launchChromium, type TestBrowser } from "./chromium.js";
import { ensureViewerBuilt } from "./viewer-build.js";
import { olderShapeItems, partKindItems } from "./viewer-fixtures.js";

const artifacts = resolve(import.meta.dirname, "../../test-artifacts/viewer");
const sessionID = "ses_browser0render01";
const shareId = sessionID.slice(-8);

if (chromiumMissing !== undefined && process.env.CI) {
  describe("web viewer rendering in Chromium", () => {
    it("has a browser to run in (required under CI=true)", () => {
      throw new Error(`browser test under CI=true: ${chromiumMissing}`);
    });
  });
}

describe.skipIf(chromiumMissing !== undefined)("web viewer rendering in Chromium", () => {
  let server: TestServer;
  let browser: TestBrowser;
  let page: Page;
  const pageErrors: string[] = [];
  const requests: string[] = [];

  beforeAll(async () => {
    await ensureViewerBuilt();
    await mkdir(artifacts, { recursive: true });
    server = await startTestServer();
    const base = server.server.url;
    const created = await post(`${base}/api/share`, { sessionID });
    expect(created.status).toBe(201);
    const { secret } = (await created.json()) as { secret: string };
    const synced = await post(`${base}/api/share/${shareId}/sync`, {
      secret,
      data: partKindItems(sessionID),
    });
    expect(synced.status, await synced.clone().text()).toBe(200);
    browser = await launchChromium({ timezoneId: "America/New_York", locale: "en-US" });
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
    page.on("pageerror", (error) => pageErrors.push(error.message));
    page.on("request", (request) => requests.push(request.url()));
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto(`${base}/s/${shareId}`);
    await page.waitForSelector('body[data-status="live"]');
    await page.waitForSelector('.message[data-message-id="msg_03"]');
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  const reply = () => page.locator('.message[data-message-id="msg_02"]');
  const part = (id: string) => reply().locator(`[data-part-id="${id}"]`);

  it("renders markdown: headings, lists, tables, links, code spans and highlighted fences", async () => {
    const markdown = part("prt_02").locator(".markdown");
    expect(await markdown.locator("h1").textContent()).toBe("Login fixed");
    expect(await markdown.locator("strong").first().textContent()).toBe("login");
    expect(await markdown.locator("ul > li").count()).toBe(2);
    expect(await markdown.locator("table td").first().textContent()).toBe("auth.ts");
    expect(await markdown.locator("p > code").first().textContent()).toBe("auth.ts");
    const link = markdown.locator('a[href="https://example.org/docs"]');
    expect(await link.getAttribute("target")).toBe("_blank");
    expect(await link.getAttribute("rel")).toBe("noopener noreferrer");
    const fence = markdown.locator('pre.code-block code[data-language="ts"]');
    expect(await fence.textContent()).toBe("const answer: number = 42;\n");
    expect(await fence.locator(".hljs-keyword").first().textContent()).toBe("const");
    expect(await fence.locator(".hljs-number").textContent()).toBe("42");
    // No raw "**" or fences left as text.
    expect(await markdown.textContent()).not.toContain("**login**");
    expect(await markdown.textContent()).not.toContain("```");
  });

  it("runs nothing injected: raw HTML, javascript: links, img onerror, fences, outputs, title", async () => {
    expect(await page.evaluate("window.__xss")).toBeUndefined();
    expect(await page.locator(".session img, .session script, .status-bar img").count()).toBe(0);
    const markdown = part("prt_02").locator(".markdown");
    // Raw HTML in markdown is shown as the text it is.
    expect(await markdown.textContent()).toContain(
      'Raw HTML stays text: <img src=x onerror="window.__xss=1">',
    );
    // A javascript: link keeps its text but loses its href; an image becomes a plain https link.
    const clickMe = markdown.locator("a", { hasText: "click me" });
    expect(await clickMe.getAttribute("href")).toBeNull();
    await clickMe.click();
    expect(await markdown.locator('a[href="https://example.org/x.png"]').textContent()).toBe("pic");
    // A fence of HTML is highlighted code, not markup.
    expect(await markdown.locator('code[data-language="html"]').textContent()).toContain(
      "<script>",
    );
    // A tool's HTML output and the session's HTML title are text.
    expect(await text(part("prt_15").locator(".tool-output"))).toContain("<img src=x");
    expect(await text(page.locator(".session-title"))).toBe(
      'Fix <b>login</b> <img src=x onerror="window.__xss=1"><script>window.__xss=2</script>',
    );
    expect(await page.title()).toContain("Fix <b>login</b>");
    expect(await page.evaluate("window.__xss")).toBeUndefined();
  });

  it("renders the shell, file and search tools by kind, with no empty output box", async () => {
    const bash = part("prt_03");
    expect(await text(bash.locator(".tool-name"))).toBe("Shell");
    expect(await text(bash.locator(".tool-subject"))).toBe("Count to a hundred");
    expect(await text(bash.locator(".tool-command"))).toBe("$ seq 100");
    expect(
      await bash.locator(".tool-command .hljs-built_in, .tool-command span").count(),
    ).toBeGreaterThan(0);
    // A completed command with no output: its command only, no output box.
    expect(await part("prt_04").locator(".tool-output").count()).toBe(0);
    expect(await text(part("prt_04").locator(".tool-command"))).toBe("$ true");
    const read = part("prt_05");
    expect(await text(read.locator(".tool-subject"))).toBe("/work/app/src/auth.ts");
    expect(await text(read.locator("summary"))).toBe("Show preview");
    expect(await read.locator('code[data-language="typescript"] .hljs-string').count()).toBe(1);
    const write = part("prt_06");
    expect(await text(write.locator("summary"))).toBe("Show contents");
    expect(
      await write.locator('code[data-language="python"] .hljs-keyword').first().textContent(),
    ).toBe("def");
    expect(await text(part("prt_10").locator(".tool-subject"))).toBe('"login"');
    expect(await text(part("prt_10").locator(".tool-note"))).toBe("3 matches");
    expect(await part("prt_10").locator("details.results").getAttribute("open")).toBeNull();
    expect(await text(part("prt_11").locator(".tool-note"))).toBe("2 results");
    expect(await text(part("prt_12").locator(".tool-subject"))).toBe("/work/app");
    expect(await text(part("prt_13").locator(".tool-subject"))).toBe("https://example.org/page");
    const task = part("prt_14");
    expect(await text(task.locator(".tool-subject"))).toBe("Review the fix");
    expect(await text(task.locator(".markdown strong"))).toBe("good");
    const generic = part("prt_15");
    expect(await text(generic.locator(".tool-name"))).toBe("mcp_lookup");
    expect(await generic.locator(".input-row dt").allTextContents()).toEqual([
      "query",
      "filters.tags[0]",
      "filters.tags[1]",
    ]);
  });

  it("renders edits as coloured unified diffs with hunk headers, and the session diff", async () => {
    const edit = part("prt_07");
    expect(await edit.locator(".diff-line").first().textContent()).toBe(
      "--- /work/app/src/auth.ts\n",
    );
    expect(await text(edit.locator(".diff-hunk"))).toBe("@@ -1,3 +1,3 @@\n");
    expect(await text(edit.locator(".diff-add"))).toBe("+  return true;\n");
    expect(await text(edit.locator(".diff-del"))).toBe("-  return false;\n");
    const colours = await Promise.all(
      [".diff-add", ".diff-del", ".diff-context"].map((selector) =>
        edit.locator(selector).first().evaluate(backgroundOf),
      ),
    );
    expect(colours[0]).not.toBe(colours[2]);
    expect(colours[1]).not.toBe(colours[2]);
    expect(colours[0]).not.toBe(colours[1]);
    // before/after contents become a patch.
    const built = part("prt_08");
    expect(await text(built.locator(".diff-hunk"))).toMatch(/^@@ -1,2 \+1,2 @@/);
    expect(await text(built.locator(".diff-add"))).toBe("+new\n");
    const session = page.locator(".session-diff");
    expect(await text(session.locator(".diff-add"))).toBe("+B\n");
    expect(await text(session.locator(".diff-del"))).toBe("-b\n");
  });

  it("renders the todo list in progress first, then pending, then completed", async () => {
    const todos = part("prt_09");
    expect(await text(todos.locator(".tool-subject"))).toBe("Updating plan");
    expect(await todos.locator(".todo-text").allTextContents()).toEqual([
      "fix login",
      "ship it",
      "write tests",
    ]);
    expect(
      await todos.locator("li").evaluateAll((items) => items.map((item) => item.className)),
    ).toEqual(["todo todo-in_progress", "todo todo-pending", "todo todo-completed"]);
  });

  it("shows an error in red with an Error label and the duration of a slow tool", async () => {
    const failed = part("prt_16");
    expect(await text(failed.locator(".error-label"))).toBe("Error");
    expect(await text(failed.locator(".error-text"))).toBe("permission denied");
    expect(await text(failed.locator(".tool-duration"))).toBe("3.5 s");
    expect(await part("prt_03").locator(".tool-duration").count()).toBe(0); // 40 ms: not shown
    const red = await failed.locator(".error-label").evaluate(backgroundOf);
    expect(red).toBe("rgb(180, 35, 24)");
  });

  it("hides what OpenCode hides; the first step is a model marker, never a bare label", async () => {
    expect(await reply().locator(".part-step").count()).toBe(1);
    expect(await text(part("prt_01"))).toBe("anthropic · claude-test");
    expect(await part("prt_17").count()).toBe(0);
    expect(await part("prt_18").count()).toBe(0);
    expect(await part("prt_19").count()).toBe(0);
    // The last reply names no model: no step marker at all.
    expect(await page.locator('.message[data-message-id="msg_03"] .part-step').count()).toBe(0);
    const labels = await page.locator(".part").allTextContents();
    expect(labels.filter((label) => label.trim() === "step" || label.trim() === "")).toEqual([]);
  });

  it("collapses long output and user text with Show more, and keeps the last part expanded", async () => {
    const output = part("prt_03").locator(".tool-output");
    expect(await output.getAttribute("class")).toContain("clamped");
    const clampedHeight = (await output.boundingBox())?.height ?? 0;
    await part("prt_03").getByRole("button", { name: "Show more" }).click();
    expect(await output.getAttribute("class")).not.toContain("clamped");
    expect((await output.boundingBox())?.height ?? 0).toBeGreaterThan(clampedHeight * 3);
    await part("prt_03").getByRole("button", { name: "Show less" }).click();
    expect(await output.getAttribute("class")).toContain("clamped");
    const userText = page.locator('.message-user [data-part-id="prt_01"] .user-text');
    expect(await userText.getAttribute("class")).toContain("clamp-user");
    const last = page.locator('.message[data-message-id="msg_03"] [data-part-id="prt_02"]');
    expect(await last.locator(".clamped").count()).toBe(0);
    expect(await last.getByRole("button", { name: "Show more" }).count()).toBe(0);
  });

  it("shows times in the reader's time zone", async () => {
    const time = page.locator(".message-user .message-header time");
    expect(await text(time)).toBe("Nov 29, 2026, 09:00:00 PM EST");
    expect(await time.getAttribute("datetime")).toBe("2026-11-30T02:00:00.000Z");
  });

  it("keeps a sticky header with the title and the live status", async () => {
    await page.evaluate("window.scrollTo(0, document.body.scrollHeight)");
    const bar = page.locator(".status-bar");
    expect((await bar.boundingBox())?.y).toBe(0);
    expect(await text(bar.locator(".bar-title"))).toContain("Fix <b>login</b>");
    expect(await text(bar.locator(".status"))).toBe("Live");
    expect(await bar.locator(".retry-now").isVisible()).toBe(false);
    await page.evaluate("window.scrollTo(0, 0)");
  });

  it("follows dark mode and takes a desktop screenshot in each scheme", async () => {
    const background = () => page.locator("body").evaluate(backgroundOf);
    await page.emulateMedia({ colorScheme: "light" });
    expect(await background()).toBe("rgb(251, 251, 250)");
    await page.screenshot({ path: join(artifacts, "desktop-1280x800-light.png") });
    await page.emulateMedia({ colorScheme: "dark" });
    expect(await background()).toBe("rgb(21, 21, 23)");
    await page.screenshot({ path: join(artifacts, "desktop-1280x800-dark.png"), fullPage: true });
    await page.emulateMedia({ colorScheme: "light" });
  });

  it("fits a 375 px screen: no sideways page scroll, code scrolls inside its block", async () => {
    await page.setViewportSize({ width: 375, height: 812 });
    await part("prt_03").getByRole("button", { name: "Show more" }).click(); // the widest output open
    const width = await page.evaluate("document.scrollingElement.scrollWidth");
    expect(width).toBeLessThanOrEqual(375);
    await page.screenshot({ path: join(artifacts, "mobile-375x812.png") });
    await page.screenshot({ path: join(artifacts, "mobile-375x812-full.png"), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it("renders every part type, unknown ones and fields plainly, and the older message shape", async () => {
    const kindsSession = "ses_browser0kinds002";
    const kindsId = kindsSession.slice(-8);
    const base = server.server.url;
    const created = await post(`${base}/api/share`, { sessionID: kindsSession });
    expect(created.status).toBe(201);
    const kindsSecret = ((await created.json()) as { secret: string }).secret;
    const response = await post(`${base}/api/share/${kindsId}/sync`, {
      secret: kindsSecret,
      data: olderShapeItems(kindsSession),
    });
    expect(response.status, await response.clone().text()).toBe(200);

    await page.goto(`${base}/s/${kindsId}`);
    await page.waitForSelector('body[data-status="live"]');
    await expect.poll(() => page.locator(".message").count()).toBe(1);
    const message = page.locator(".message-assistant");
    expect(await text(page.locator(".message-assistant .message-header .model"))).toBe("old-model");
    expect(await text(page.locator(".totals"))).toContain("$1.50");
    expect(await text(page.locator(".models"))).toContain("old-model");
    // The first step-start is shown, the second is not.
    expect(await message.locator(".part-step").count()).toBe(1);
    expect(await text(page.locator(".part-step"))).toBe("old-provider · old-model");
    expect(await text(page.locator(".part-file"))).toContain("notes.txt");
    expect(await text(page.locator(".part-file"))).toContain("inline data");
    expect(await text(page.locator(".part-agent"))).toContain("reviewer");
    expect(await text(page.locator(".part-subtask"))).toContain("check the tests");
    expect(await text(page.locator(".part-retry"))).toContain("rate limited");
    expect(await text(page.locator(".part-compaction"))).toContain("compacted");
    expect(await text(page.locator(".part-tool.tool-error .error-text"))).toContain(
      "permission denied",
    );
    // An unknown type is shown as JSON; an unknown field of a known type under "other fields".
    expect(await text(page.locator(".part-unknown"))).toContain('"beam": "on"');
    expect(await text(page.locator(".part-text .other-fields"))).toContain("sparkle");
    // Long output is clamped until "Show more".
    const output = page.locator(".part-tool.tool-completed .tool-output");
    expect(await output.getAttribute("class")).toContain("clamped");
    await page.locator(".part-tool.tool-completed .show-more").click();
    expect(await output.getAttribute("class")).not.toContain("clamped");
    expect(pageErrors).toEqual([]);
    await page.evaluate("window.scrollTo(0, 0)");
    await page.screenshot({ path: join(artifacts, "older-shape-part-kinds.png"), fullPage: true });
  });

  it("renders parts whose type, tool or status is a name from Object.prototype or a class list", async () => {
    const odd = "ses_browser0proto003";
    const oddId = odd.slice(-8);
    const base = server.server.url;
    const created = await post(`${base}/api/share`, { sessionID: odd });
    const oddSecret = ((await created.json()) as { secret: string }).secret;
    const part = (id: string, data: object) => ({
      type: "part",
      data: { id, sessionID: odd, messageID: "msg_01", ...data },
    });
    const synced = await post(`${base}/api/share/${oddId}/sync`, {
      secret: oddSecret,
      data: [
        { type: "session", data: { id: odd, title: "odd names" } },
        { type: "message", data: { id: "msg_01", sessionID: odd, role: "assistant" } },
        part("prt_01", { type: "constructor", text: "proto type" }),
        part("prt_02", {
          type: "tool",
          tool: "toString",
          state: { status: "completed gone deleted", input: {}, output: "tool output" },
        }),
        part("prt_03", { type: "text", text: "still shown after them" }),
      ],
    });
    expect(synced.status).toBe(200);
    await page.goto(`${base}/s/${oddId}`);
    await page.waitForSelector('body[data-status="live"]');
    await expect.poll(() => text(page.locator(".message"))).toContain("still shown after them");
    expect(await text(page.locator(".message"))).toContain("proto type");
    // A status is a class only when it is one word; it never borrows the page's own classes.
    expect(await page.locator(".message .gone, .message .deleted").count()).toBe(0);
    expect(pageErrors).toEqual([]);
  });

  it("made no request outside the server and threw no page error", () => {
    const base = server.server.url;
    expect(
      requests.filter((url) => !url.startsWith(`${base}/`) && !url.startsWith("data:")),
    ).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});

/** Runs in the page: an element's computed background colour (typed by hand: no DOM types here). */
function backgroundOf(node: unknown): string {
  const page = globalThis as unknown as {
    getComputedStyle(element: unknown): { backgroundColor: string };
  };
  return page.getComputedStyle(node).backgroundColor;
}

async function text(locator: ReturnType<Page["locator"]>): Promise<string> {
  return (await locator.first().textContent()) ?? "";
}

async function post(url: string, body: unknown): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}
