// The viewer's entry (bundled to /s/assets/viewer.js): reads the share id from /s/<id> or
// /share/<id>, mounts the page and connects the share viewer client (reconnect and catch-up are
// the client's) to this same origin. A reader should see the share again within two seconds of
// the server coming back: the backoff is capped at 1.5 s (full jitter), and the browser's own
// signals that the network or the tab is back retry at once.

import { createViewerClient } from "../share/client/viewer-client.js";
import { shareIdFromPath } from "./share-path.js";
import { createViewerPage } from "./viewer-page.js";

/**
 * 250 ms doubling, capped at 1.5 s (full jitter): the attempt after a server comes back starts
 * within 1.5 s, so with the connection itself the page is live again within 2 s.
 */
const reconnectBackoff = { initialMs: 250, maxMs: 1500, factor: 2 };

function start(): void {
  const root = document.getElementById("app") ?? document.body;
  const id = shareIdFromPath(location.pathname);
  let retryNow = () => {};
  const page = createViewerPage(root, id ?? "", { retryNow: () => retryNow() });
  if (id === undefined) {
    page.setStatus("not-found");
    return;
  }
  const client = createViewerClient({
    server: location.origin,
    id,
    WebSocket: globalThis.WebSocket,
    backoff: reconnectBackoff,
  });
  retryNow = () => client.retryNow();
  window.addEventListener("online", retryNow);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") retryNow();
  });
  client.on("status", (status) => page.setStatus(status));
  client.on("snapshot", (state) => page.setState(state));
  client.on("update", (_frame, state) => page.setState(state));
  page.setStatus(client.status);
  client.connect();
  window.addEventListener("pagehide", () => client.close());
  // Restored from the back/forward cache with a closed client: start over.
  window.addEventListener("pageshow", (event) => {
    if (event.persisted) location.reload();
  });
}

start();
