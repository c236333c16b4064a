import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { asHttpError, errorResponse } from "./http-errors.js";
import { HttpRouter } from "./http-router.js";
import { addViewerPageRoutes } from "./viewer-routes.js";

const root = mkdtempSync(join(tmpdir(), "syncline-viewer-page-"));
const built = join(root, "viewer");
const secret = join(root, "secret.js");
writeFileSync(secret, "do not serve");
mkdirSync(built);
writeFileSync(join(built, "index.html"), "<!doctype html><p>viewer</p>");
writeFileSync(join(built, "viewer.js"), "console.log(1)");
writeFileSync(join(built, "viewer.css"), "p{}");
afterAll(() => rmSync(root, { recursive: true, force: true }));

const dirUrl = (path: string) => pathToFileURL(`${path}/`);
/** The answer to `GET path`, as the HTTP adapter would write it (a thrown error answered). */
const get = async (router: HttpRouter, path: string) => {
  const routed = await router.handle({
    method: "GET",
    path,
    query: new URLSearchParams(),
    headers: {},
  });
  return {
    route: routed.route,
    response:
      "response" in routed ? routed.response : errorResponse(asHttpError(routed.error, path)),
  };
};

describe("viewer page routes", () => {
  const router = addViewerPageRoutes(
    new HttpRouter(),
    async (id) => (id === "known123" ? 200 : id === "deleted1" ? 410 : 404),
    dirUrl(built),
  );

  it("serve the page for a known share, the same page with 404 for an unknown one", async () => {
    const known = (await get(router, "/s/known123")).response;
    expect(known.status).toBe(200);
    expect(known.headers?.["content-type"]).toBe("text/html; charset=utf-8");
    expect(known.headers?.["content-security-policy"]).toContain("default-src 'none'");
    expect(String(known.body)).toContain("viewer");
    const unknown = (await get(router, "/s/nosuch99")).response;
    expect(unknown.status).toBe(404);
    expect(String(unknown.body)).toBe(String(known.body));
  });

  it("serve the same page at /share/<id>, the link form creates hand out", async () => {
    const known = (await get(router, "/share/known123")).response;
    expect(known.status).toBe(200);
    expect(known.headers?.["content-security-policy"]).toContain("default-src 'none'");
    expect(String(known.body)).toBe(String((await get(router, "/s/known123")).response.body));
    expect((await get(router, "/share/nosuch99")).response.status).toBe(404);
  });

  it("serve the page with 410 for a deleted share, which the page then says", async () => {
    const deleted = (await get(router, "/share/deleted1")).response;
    expect(deleted.status).toBe(410);
    expect(String(deleted.body)).toBe(String((await get(router, "/s/known123")).response.body));
  });

  it("serve assets with their content type", async () => {
    const js = (await get(router, "/s/assets/viewer.js")).response;
    expect(js.status).toBe(200);
    expect(js.headers?.["content-type"]).toMatch(/^text\/javascript/);
    const css = (await get(router, "/s/assets/viewer.css")).response;
    expect(css.headers?.["content-type"]).toMatch(/^text\/css/);
  });

  it("serve nothing outside the directory, hidden, or of an unknown type", async () => {
    for (const path of [
      "/s/assets/..%2Fsecret.js",
      "/s/assets/%2e%2e%2fsecret.js",
      "/s/assets/..",
      "/s/assets/.env.js",
      "/s/assets/index.html.bak",
      "/s/assets/missing.js",
    ]) {
      const { response } = await get(router, path);
      expect(response.status, path).toBe(404);
      expect(String(response.body)).not.toContain("do not serve");
      expect(response.headers?.["content-type"], path).toBe("application/json; charset=utf-8");
      expect(response.headers?.["cache-control"], path).toBe("no-store");
      const { error } = JSON.parse(String(response.body));
      expect(error.code, path).toBe("ERR_NOT_FOUND");
      expect(error.message, path).toMatch(/^share viewer: no asset "/);
    }
  });

  it("answer 503 JSON without the path on disk when the viewer is not built, and log the path", async () => {
    const warnings: string[] = [];
    const dir = join(root, "nope");
    const missing = addViewerPageRoutes(
      new HttpRouter(),
      async () => 200 as const,
      dirUrl(dir),
      (message) => warnings.push(message),
    );
    const { response } = await get(missing, "/s/known123");
    expect(response.status).toBe(503);
    expect(response.headers?.["content-type"]).toBe("application/json; charset=utf-8");
    expect(response.headers?.["cache-control"]).toBe("no-store");
    expect(JSON.parse(String(response.body))).toEqual({
      error: {
        code: "ERR_VIEWER_NOT_BUILT",
        message:
          "share viewer: the page is not built on this server; the server log names the missing file",
      },
    });
    expect(String(response.body)).not.toContain(root);
    expect(warnings).toEqual([
      `share viewer: the page is not built (${join(dir, "index.html")} is missing); run npm run build`,
    ]);
  });

  it("keep the HTML page, status 404, for an unknown share", async () => {
    const { response } = await get(router, "/s/unknown9");
    expect(response.status).toBe(404);
    expect(response.headers?.["content-type"]).toBe("text/html; charset=utf-8");
    expect(String(response.body)).toContain("<p>viewer</p>");
  });
});
