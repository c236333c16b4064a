// Durability of acknowledged Automerge changes: a `syncline serve` child acknowledges a change
// (its sync reply names the new heads), is killed with SIGKILL at once, restarts on the same
// data directory, and serves the change to a fresh client.

import * as A from "@automerge/automerge";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { generateDocumentId } from "../../src/util/ids.js";
import { openWireClient, syncUntilAcknowledged } from "../helpers/automerge-wire.js";
import { serveEnv, startServe, stopServe, waitForExit } from "../helpers/cli.js";
import { createTempDir } from "../helpers/temp-dir.js";

let dir: { path: string; remove: () => Promise<void> };
beforeEach(async () => {
  dir = await createTempDir("syncline-am-durable-");
});
afterEach(async () => {
  await dir.remove();
});

async function serve() {
  const { child, base } = await startServe(`${dir.path}/data`, { env: serveEnv(dir.path) });
  return { child, url: base.replace(/^http/, "ws") };
}

describe("automerge durability", () => {
  it("a change acknowledged before SIGKILL is there after a restart", async () => {
    const documentId = generateDocumentId();
    let doc = A.from<{ items: number[] }>({ items: [] });
    const first = await serve();
    const writer = await openWireClient(first.url);
    await writer.join("writer");
    for (let i = 0; i < 5; i++) doc = A.change(doc, (d) => d.items.push(i));
    await syncUntilAcknowledged(writer, "writer", documentId, doc);
    first.child.kill("SIGKILL");
    expect((await waitForExit(first.child, 10_000)).signal).toBe("SIGKILL");
    writer.socket.terminate();

    const second = await serve();
    try {
      const reader = await openWireClient(second.url);
      await reader.join("reader");
      let copy = A.init<{ items: number[] }>();
      let state = A.initSyncState();
      const [next, data] = A.generateSyncMessage(copy, state);
      state = next;
      reader.send({
        type: "request",
        senderId: "reader",
        targetId: "server",
        documentId,
        data: data as Uint8Array,
      });
      const reply = await reader.next((m) => m.type === "sync" || m.type === "doc-unavailable");
      expect(reply.type).toBe("sync");
      if (reply.type === "sync") [copy] = A.receiveSyncMessage(copy, state, reply.data);
      expect(copy.items).toEqual([0, 1, 2, 3, 4]);
      reader.socket.terminate();
    } finally {
      await stopServe(second.child);
    }
  });
});
