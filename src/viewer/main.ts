// The viewer's entry (bundled to /s/assets/viewer.js): reads the share id from /s/<id>, mounts
// the page and connects the share viewer client (reconnect and catch-up are the client's) to
// this same origin.

import { createViewerClient } from "../share/client/viewer-client.js";
import { shareIdFromPath } from "./share-path.js";
import { createViewerPage } from "./viewer-page.js";

function start(): void {
  const root = document.getElementById("app") ?? document.body;
  const id = shareIdFromPath(location.pathname);
  const page = createViewerPage(root, id ?? "");
  if (id === undefined) {
    page.setStatus("not-found");
    return;
  }
  const client = createViewerClient({
    server: location.origin,
    id,
    WebSocket: globalThis.WebSocket,
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
