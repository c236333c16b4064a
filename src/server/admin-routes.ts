// The admin API: an owner's way to delete a share or an automerge document without its secret,
// on a server started with --admin-token (`Authorization: Bearer <token>`). Without a token it
// answers 403; a wrong token is a failed authentication of the address, as a wrong secret is.

import type { DocumentHub } from "../automerge/document-hub.js";
import { createError } from "../protocol/errors.js";
import type { ShareHub } from "../share/share-hub.js";
import { isValidDocumentId } from "../util/ids.js";
import { bearerTokenMatches } from "./bearer-token.js";
import { clientAddressOf, type HttpRequest, type HttpRouter, jsonResponse } from "./http-router.js";
import type { LimitMetrics } from "./limit-metrics.js";
import type { RateLimits } from "./rate-limits.js";

/** What the admin routes act on. */
export interface AdminRouteOptions {
  /** The admin token; undefined: the API is off (403). */
  readonly token: string | undefined;
  readonly shares: ShareHub;
  readonly documents: DocumentHub;
  readonly rateLimits: RateLimits;
  readonly metrics: LimitMetrics;
}

const noStore = { "cache-control": "no-store" };

/** Adds `DELETE /admin/share/:id` and `DELETE /admin/document/:id` to `router`. */
export function addAdminRoutes(router: HttpRouter, options: AdminRouteOptions): HttpRouter {
  router.add("DELETE", "/admin/share/:id", async (request) => {
    checkAdmin(request, options, "admin: delete share");
    const id = request.params.id as string;
    await options.shares.removeWithoutSecret(id, "admin: delete share");
    options.metrics.adminDeletes.inc({ kind: "share" });
    return jsonResponse(200, { id, deleted: true }, noStore);
  });
  router.add("DELETE", "/admin/document/:id", async (request) => {
    const context = "admin: delete document";
    checkAdmin(request, options, context);
    const documentId = request.params.id as string;
    if (!isValidDocumentId(documentId)) {
      throw createError(
        "ERR_INVALID_DOCUMENT_ID",
        `${context}: ${JSON.stringify(documentId.slice(0, 60))} is not a document id`,
      );
    }
    if (!(await options.documents.remove(documentId))) {
      throw createError("ERR_NOT_FOUND", `${context}: no document ${documentId}`);
    }
    options.metrics.adminDeletes.inc({ kind: "document" });
    return jsonResponse(200, { documentId, deleted: true }, noStore);
  });
  return router;
}

/** Throws unless the request carries the admin token (403 when there is none, else 401/429). */
function checkAdmin(request: HttpRequest, options: AdminRouteOptions, context: string): void {
  if (options.token === undefined) {
    throw createError(
      "ERR_ADMIN_DISABLED",
      `${context}: the admin API is off; start the server with --admin-token`,
    );
  }
  const address = clientAddressOf(request);
  options.rateLimits.checkAuthAllowed(address, context);
  if (!bearerTokenMatches(request.headers.authorization, options.token)) {
    options.rateLimits.authFailed(address);
    const sent = request.headers.authorization === undefined ? "none was sent" : "it is not valid";
    throw createError(
      "ERR_UNAUTHORIZED",
      `${context}: needs the admin token as "Authorization: Bearer <token>"; ${sent}`,
    );
  }
}
