// Serves the share viewer page built into <package>/dist/viewer/ (index.html, viewer.js,
// viewer.css): `GET /s/<id>` and `GET /share/<id>` answer the page (status 404 for an unknown
// share, 410 for a deleted one; the page shows its own message) and `GET /s/assets/<file>` its
// files. Nothing else on disk is reachable, and no answer names a path on disk; errors are thrown
// and answered like every route's.

import { readFile } from "node:fs/promises";
import { extname } from "node:path";
import { fileURLToPath } from "node:url";
import { createError } from "../protocol/errors.js";
import type { HttpRequest, HttpResponse, HttpRouter } from "./http-router.js";

/** Where the built viewer lives: the same relative place from src/server and dist/server. */
export const viewerDir = new URL("../../dist/viewer/", import.meta.url);

const contentTypes: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
};

/** The page's own policy, sent as a header too: nothing may be fetched from another origin. */
const contentSecurityPolicy =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; " +
  "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const assetName = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/**
 * Adds `GET /s/:id`, `GET /share/:id` and `GET /s/assets/:file`; `statusOf` answers a share's
 * page status: 200 for a share that exists, 410 for a deleted one, 404 for an unknown one.
 * `warn` gets the absolute path of a missing page (default: a process warning, once per path).
 */
export function addViewerPageRoutes(
  router: HttpRouter,
  statusOf: (id: string) => Promise<200 | 404 | 410>,
  dir: URL = viewerDir,
  warn: (message: string) => void = warnOnce,
): HttpRouter {
  router.get("/s/assets/:file", async (request) => {
    const name = request.params.file as string;
    const type = contentTypes[extname(name)];
    // One plain file name of a known type: no "/", no "..", no hidden files.
    if (!assetName.test(name) || name.includes("..") || type === undefined) {
      throw createError("ERR_NOT_FOUND", `share viewer: no asset ${JSON.stringify(name)}`);
    }
    const body = await readOptional(new URL(name, dir));
    if (body === undefined) {
      throw createError("ERR_NOT_FOUND", `share viewer: no asset ${JSON.stringify(name)}`);
    }
    return { status: 200, headers: { "content-type": type, "cache-control": "no-cache" }, body };
  });
  // `/share/<id>` is the form OpenCode's servers hand out (and `opencode import` reads); `/s/<id>`
  // is ours from before. The page loads its files from /s/assets/ by absolute path either way.
  for (const path of ["/s/:id", "/share/:id"]) router.get(path, (request) => page(request));
  return router;

  async function page(request: HttpRequest): Promise<HttpResponse> {
    const html = await readOptional(new URL("index.html", dir));
    if (html === undefined) {
      const path = fileURLToPath(new URL("index.html", dir));
      warn(`share viewer: the page is not built (${path} is missing); run npm run build`);
      const message =
        "share viewer: the page is not built on this server; the server log names the missing file";
      throw createError("ERR_VIEWER_NOT_BUILT", message);
    }
    // A store that cannot be read is its error (503), not a "not found" page.
    const status = await statusOf(request.params.id as string);
    return {
      status,
      headers: {
        "content-type": "text/html; charset=utf-8",
        "cache-control": "no-store",
        "content-security-policy": contentSecurityPolicy,
        "referrer-policy": "no-referrer",
        "x-content-type-options": "nosniff",
      },
      body: html,
    };
  }
}

async function readOptional(url: URL): Promise<Buffer | undefined> {
  try {
    return await readFile(url);
  } catch {
    return undefined;
  }
}

const warned = new Set<string>();

/** A process warning (stderr unless a handler takes it), once per message. */
function warnOnce(message: string): void {
  if (warned.has(message)) return;
  warned.add(message);
  process.emitWarning(message, { code: "SYNCLINE_VIEWER_NOT_BUILT" });
}
