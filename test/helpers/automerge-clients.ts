// Real automerge-repo clients for interop tests: a storage-less Repo on a WebSocket adapter,
// and a check that the server's store holds a document at given heads (durable there).

import { type PeerId, Repo } from "@automerge/automerge-repo";
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket";
import { DocumentStore } from "../../src/automerge/document-store.js";
import { createGroupCommit } from "../../src/automerge/group-commit.js";
import type { Store } from "../../src/storage/store.js";

/** A storage-less Repo client of `url` (ws://…), with a readable peer id. */
export function createRepoClient(url: string, name = "client", retryIntervalMs = 200): Repo {
  return new Repo({
    network: [new WebSocketClientAdapter(url, retryIntervalMs)],
    peerId: `${name}-${Math.random().toString(36).slice(2, 8)}` as PeerId,
    sharePolicy: async () => true,
  });
}

/** The WebSocket URL of an http:// server URL. */
export function wsUrl(httpUrl: string, path = "/"): string {
  return httpUrl.replace(/^http/, "ws") + path;
}

/** Polls until `check` returns true (or fails after `timeoutMs`). */
export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  what = "condition",
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** True when the store holds `documentId` with every one of `heads`. */
export async function storeHasHeads(
  store: Store,
  documentId: string,
  heads: readonly string[],
): Promise<boolean> {
  const stored = await new DocumentStore(store, createGroupCommit(store)).load(documentId);
  if (!stored) return false;
  const has = heads.every((hash) => stored.doc.getChangeByHash(hash) !== null);
  stored.doc.free();
  return has;
}
