// The reference automerge-repo-sync-server, built in-process exactly as its index.js does: a
// `Repo` with a `WebSocketServerAdapter` on a noServer `ws` server fed by an HTTP server's
// upgrades, `NodeFSStorageAdapter` in a temp dir, `sharePolicy: async () => false`, GET / → 200.

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type PeerId, Repo } from "@automerge/automerge-repo";
import { WebSocketServerAdapter } from "@automerge/automerge-repo-network-websocket";
import { NodeFSStorageAdapter } from "@automerge/automerge-repo-storage-nodefs";
import { WebSocketServer } from "ws";
import { createTempDir } from "./temp-dir.js";

type ServerAdapterSocket = ConstructorParameters<typeof WebSocketServerAdapter>[0];

/** A running reference server. */
export interface ReferenceAutomergeServer {
  /** ws://127.0.0.1:PORT */
  readonly url: string;
  readonly repo: Repo;
  readonly dataDir: string;
  /** Stops the repo, the sockets and the HTTP server, and removes the data directory. */
  stop(): Promise<void>;
}

/** Starts the reference server on a free loopback port. */
export async function startReferenceAutomergeServer(): Promise<ReferenceAutomergeServer> {
  const dir = await createTempDir("syncline-reference-am-");
  const wss = new WebSocketServer({ noServer: true });
  const repo = new Repo({
    // The adapter's types name the CJS build of ws; the object is the same class at runtime.
    network: [new WebSocketServerAdapter(wss as unknown as ServerAdapterSocket)],
    storage: new NodeFSStorageAdapter(dir.path),
    peerId: "storage-server-test" as PeerId,
    // The reference never pushes documents nobody asked for.
    sharePolicy: async () => false,
  });
  const server: Server = createServer((request, response) => {
    if (request.method === "GET" && request.url === "/") {
      response.writeHead(200, { "content-type": "text/plain" });
      response.end("👍 @automerge/automerge-repo-sync-server is running");
      return;
    }
    response.writeHead(404).end();
  });
  server.on("upgrade", (request, socket, head) => {
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit("connection", ws, request));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}`,
    repo,
    dataDir: dir.path,
    async stop() {
      for (const client of wss.clients) client.terminate();
      await repo.shutdown().catch(() => {});
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await dir.remove();
    },
  };
}
