// Syncline servers as the nodes of one deployment, each the real server in its own process
// (roles/syncline-server.ts), configured through the environment as `syncline serve` would be:
// DATABASE_URL (--postgres) for the shared store, REDIS_URL (--redis) for the bus. Without
// DATABASE_URL a node is the single-node server on LMDB in its data directory.

import { join } from "node:path";
import { type RoleProcess, startRole } from "./child.js";

/** Where the nodes keep their data and how they hear from each other. */
export interface NodeStore {
  /** The shared database's URL; undefined: one node on LMDB. */
  readonly postgres?: string | undefined;
  /** The bus; undefined: no bus (one node). */
  readonly redis?: string | undefined;
}

/** Running nodes, in the order started. */
export interface Nodes {
  readonly processes: readonly RoleProcess[];
  /** Each node's `ws://host:port`. */
  readonly ws: readonly string[];
  /** Each node's `http://host:port`. */
  readonly http: readonly string[];
  readonly pids: readonly number[];
}

const serverRole = new URL("../roles/syncline-server.js", import.meta.url).pathname;

/**
 * Starts `count` nodes on `store`, one after another (the first migrates the schema, so the
 * others find it done), each with its own directory under `dataDir` (the transport's host key;
 * the LMDB store when there is no Postgres). `env` adds settings for every node. Started
 * processes are pushed to `started` as they start, for the caller's cleanup.
 */
export async function startNodes(
  count: number,
  dataDir: string,
  store: NodeStore,
  started: RoleProcess[],
  env: NodeJS.ProcessEnv = {},
): Promise<Nodes> {
  const processes: RoleProcess[] = [];
  const ws: string[] = [];
  for (let i = 0; i < count; i++) {
    const nodeEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
    // Never inherited from the shell running the benchmark: the layout decides.
    delete nodeEnv.DATABASE_URL;
    delete nodeEnv.REDIS_URL;
    if (store.postgres !== undefined) nodeEnv.DATABASE_URL = store.postgres;
    if (store.redis !== undefined) nodeEnv.REDIS_URL = store.redis;
    const node = startRole(serverRole, [join(dataDir, `node-${i}`)], { env: nodeEnv });
    started.push(node);
    processes.push(node);
    ws.push(String((await Promise.race([node.next("ready", 60_000), node.exited])).url));
  }
  return {
    processes,
    ws,
    http: ws.map((url) => url.replace(/^ws/, "http")),
    pids: processes.map((p) => p.child.pid as number),
  };
}
