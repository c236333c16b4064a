// The URLs a share viewer uses on a server given as http(s):// or ws(s):// (a path prefix is kept):
// the viewer WebSocket, with catch-up parameters, and the share's data, which tells a missing
// share from a server that is down. Pure: the browser viewer bundles it.

import { createError } from "../../protocol/errors.js";
import { latestViewerVersion, viewerVersionParam } from "../../protocol/share-frames.js";

/**
 * The `share_poll` WebSocket URL for `id` on `server`, with `since` when given, and `epoch` (the
 * epoch `since` belongs to) when given with `since`; it asks for the newest form of frames
 * (`&v=2`: a full state ends with a `state` frame).
 */
export function viewerSocketUrl(
  server: string,
  id: string,
  since?: number,
  epoch?: string,
): string {
  const url = parseServer(server);
  if (url.protocol === "http:") url.protocol = "ws:";
  else if (url.protocol === "https:") url.protocol = "wss:";
  url.pathname = `${url.pathname.replace(/\/+$/, "")}/share_poll`;
  url.search = "";
  url.hash = "";
  url.searchParams.set("id", id);
  if (since !== undefined) {
    url.searchParams.set("since", String(since));
    if (epoch !== undefined) url.searchParams.set("epoch", epoch);
  }
  url.searchParams.set(viewerVersionParam, String(latestViewerVersion));
  return url.toString();
}

/** The HTTP URL of `GET /api/share/<id>/data` on `server` (used to tell a missing share). */
export function shareDataUrl(server: string, id: string): string {
  const url = parseServer(server);
  if (url.protocol === "ws:") url.protocol = "http:";
  else if (url.protocol === "wss:") url.protocol = "https:";
  url.pathname = `${url.pathname.replace(/\/+$/, "")}/api/share/${encodeURIComponent(id)}/data`;
  url.search = "";
  url.hash = "";
  return url.toString();
}

/** `server` as a URL; ERR_INVALID_SERVER_URL unless it is http(s):// or ws(s)://. */
function parseServer(server: string): URL {
  let url: URL | undefined;
  try {
    url = new URL(server);
  } catch {}
  if (url === undefined || !["http:", "https:", "ws:", "wss:"].includes(url.protocol)) {
    throw createError(
      "ERR_INVALID_SERVER_URL",
      `viewer client: server ${JSON.stringify(server)} is not an http(s):// or ws(s):// url`,
    );
  }
  return url;
}
