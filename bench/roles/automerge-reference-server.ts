// The automerge-sync peer: exactly what `automerge-repo-sync-server` runs — a `Repo` with a
// `WebSocketServerAdapter` on a `ws` server attached to an HTTP server, `NodeFSStorageAdapter`
// on the data directory, `sharePolicy: async () => false`, GET / answering 200 — in its own
// process; reports its URL to the parent.

import { createServer } from "node:http";
import { hostname } from "node:os";
import { type PeerId, Repo } from "@automerge/automerge-repo";
import { WebSocketServerAdapter } from "@automerge/automerge-repo-network-websocket";
import { NodeFSStorageAdapter } from "@automerge/automerge-repo-storage-nodefs";
import { WebSocketServer } from "ws";
import { roleChannel } from "../lib/child.js";

const [dataDir] = process.argv.slice(2);
const parent = roleChannel();
const wss = new WebSocketServer({ noServer: true });
new Repo({
  // automerge-repo types `ws` through its own import of @types/ws; it is the same server.
  network: [
    new WebSocketServerAdapter(
      wss as unknown as ConstructorParameters<typeof WebSocketServerAdapter>[0],
    ),
  ],
  storage: new NodeFSStorageAdapter(dataDir),
  peerId: `storage-server-${hostname()}` as PeerId,
  sharePolicy: async () => false,
});
const http = createServer((_request, response) => {
  response.writeHead(200, { "content-type": "text/plain" });
  response.end("👍 @automerge/automerge-repo-sync-server is running");
});
http.on("upgrade", (request, socket, head) => {
  wss.handleUpgrade(request, socket, head, (ws) => wss.emit("connection", ws, request));
});
http.listen(0, "127.0.0.1", () => {
  const address = http.address();
  const port = typeof address === "object" && address ? address.port : 0;
  parent.send({ type: "ready", url: `ws://127.0.0.1:${port}` });
});
