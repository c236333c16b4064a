// Attack: fill the server's disk. Before, with the data directory on a 5 MiB tmpfs, the first
// share write past full answered 503 and the second ended the process (exit 1) on an unhandled
// lmdb-js "Commit failed" rejection. Now a `syncline serve` child on a 5 MiB tmpfs (with a 1 MiB
// filler file in it) takes share writes until the disk is full, then: every further write answers
// 503 ERR_SHARE_STORAGE, the process stays up, /healthz says "degraded" (200, no server path),
// reads go on (share data, a new viewer, an Automerge document), an Automerge sync that needs the
// disk is closed 1011. Deleting the filler makes writes succeed and /healthz "ok" again, with no
// restart; after SIGTERM and a restart on the same directory every acknowledged write is there.
// Needs root to mount the tmpfs: fails under CI=true without it, skipped otherwise.

import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import * as A from "@automerge/automerge";
import { afterAll, describe, expect, it } from "vitest";
import { generateDocumentId } from "../../src/util/ids.js";
import { openWireClient, type WireClient } from "../helpers/automerge-wire.js";
import { type ServeChild, serveEnv, startServe, stopServe } from "../helpers/cli.js";
import { call, openViewer, sessionOf } from "../helpers/share.js";
import { mountTmpfs } from "../helpers/tmpfs.js";

const disk = mountTmpfs(5, "syncline-full-disk-");
if (disk.problem !== undefined) disk.remove();

if (disk.problem !== undefined && process.env.CI) {
  describe("attack: a full disk", () => {
    it("has a tmpfs to fill (required under CI=true)", () => {
      throw new Error(`full-disk attack test under CI=true: ${disk.problem}`);
    });
  });
}

type Notes = { items: string[]; blob?: Uint8Array };

const sessionID = sessionOf("fulldisk");
const shareId = "fulldisk";
/** About 200 KiB of content per share item: a couple of dozen fill the disk. */
const itemText = (n: number) => `${n} `.padEnd(200 * 1024, "x");
const part = (n: number) => ({
  type: "part",
  data: { id: `p${n}`, messageID: "msg_1", sessionID, text: itemText(n) },
});

/** Random bytes (one Automerge value, which it cannot compress): a change needing fresh disk. */
const incompressible = (bytes: number) => new Uint8Array(randomBytes(bytes));

const alive = (server: ServeChild) =>
  server.child.exitCode === null && server.child.signalCode === null;

const syncShare = (base: string, secret: string, n: number) =>
  call(base, "POST", `/api/share/${shareId}/sync`, { secret, data: [part(n)] });

/** Syncs share items until the server refuses one; the acknowledged ones and the refusal. */
async function fillWithShareItems(base: string, secret: string) {
  const acked: number[] = [];
  for (let n = 0; n < 60; n++) {
    const answer = await syncShare(base, secret, n);
    if (answer.status !== 200) return { acked, refusal: answer };
    expect(answer.body.seq).toBe(acked.length + 1);
    acked.push(n);
  }
  throw new Error("the disk never filled up");
}

/**
 * Pushes `doc` over `client` until the server acknowledges its heads ("acked") or closes the
 * socket (its close code).
 */
async function pushDocument(
  client: WireClient,
  documentId: string,
  pushed: A.Doc<Notes>,
): Promise<"acked" | number> {
  let doc = A.clone(pushed); // receiving replies outdates a document: the caller's stays usable
  let state = A.initSyncState();
  let seen = 0;
  const want = A.getHeads(doc);
  const closed = client.closed.then((code) => ({ code }));
  // A change past the worker threshold (256 KiB) is applied in a worker: allow for its start on
  // a loaded machine.
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const [next, data] = A.generateSyncMessage(doc, state);
    state = next;
    if (data)
      client.send({ type: "sync", senderId: "writer", targetId: "server", documentId, data });
    const ended = await Promise.race([closed, new Promise((r) => setTimeout(r, 20))]);
    if (ended) return (ended as { code: number }).code;
    for (const message of client.received.slice(seen)) {
      if (message.type !== "sync" || message.documentId !== documentId) continue;
      [doc, state] = A.receiveSyncMessage(doc, state, message.data);
      const heads = A.decodeSyncMessage(message.data).heads;
      if (want.every((hash) => heads.includes(hash))) return "acked";
    }
    seen = client.received.length;
  }
  throw new Error("the server neither acknowledged nor closed");
}

/** The document as the server serves it to a fresh peer, or undefined when unavailable. */
async function fetchDocument(url: string, documentId: string): Promise<A.Doc<Notes> | undefined> {
  const reader = await openWireClient(url);
  try {
    await reader.join("reader");
    const [state, data] = A.generateSyncMessage(A.init<Notes>(), A.initSyncState());
    reader.send({
      type: "request",
      senderId: "reader",
      targetId: "server",
      documentId,
      data: data as Uint8Array,
    });
    const reply = await reader.next((m) => m.type === "sync" || m.type === "doc-unavailable");
    if (reply.type !== "sync") return undefined;
    return A.receiveSyncMessage(A.init<Notes>(), state, reply.data)[0];
  } finally {
    reader.socket.terminate();
  }
}

/** The document's content as the server serves it (undefined when unavailable). */
async function readDocument(url: string, documentId: string): Promise<Notes | undefined> {
  const doc = await fetchDocument(url, documentId);
  return doc && (JSON.parse(JSON.stringify(doc)) as Notes);
}

/** The share's stored items as GET data answers them: part id → text, and the seq. */
async function shareData(base: string) {
  const data = await call(base, "GET", `/api/share/${shareId}/data`);
  expect(data.status).toBe(200);
  const texts = new Map<string, string>(
    data.body.map((item: { data: { id: string; text: string } }) => [item.data.id, item.data.text]),
  );
  return { texts, seq: Number(data.headers.get("x-share-seq")) };
}

function expectShareHolds(texts: Map<string, string>, acked: readonly number[]): void {
  expect([...texts.keys()].sort()).toEqual(acked.map((n) => `p${n}`).sort());
  const wrong = acked.filter((n) => texts.get(`p${n}`) !== itemText(n));
  expect(wrong).toEqual([]);
}

async function health(base: string) {
  const answer = await call(base, "GET", "/healthz");
  expect(answer.text).not.toContain(disk.path); // no server path, degraded or not
  return answer;
}

async function metric(base: string, name: string): Promise<number> {
  const text = (await call(base, "GET", "/metrics")).text;
  const line = text.split("\n").find((candidate) => candidate.startsWith(name));
  return Number(line?.split(" ").pop());
}

describe.skipIf(disk.problem !== undefined)("attack: a full disk", () => {
  const servers: ServeChild[] = [];
  afterAll(async () => {
    for (const server of servers) if (alive(server)) await stopServe(server.child);
    disk.remove();
  });

  const serve = async () => {
    const server = await startServe(join(disk.path, "data"), { env: serveEnv(disk.path) });
    servers.push(server);
    return { ...server, url: server.base.replace(/^http/, "ws") };
  };

  it("refuses writes with 503/1011, keeps serving reads, recovers, and loses nothing acknowledged", async () => {
    const filler = join(disk.path, "filler");
    writeFileSync(filler, Buffer.alloc(1024 * 1024));
    const server = await serve();
    const { base, url } = server;

    // An Automerge document and a share, written while there is room.
    const documentId = generateDocumentId();
    let doc = A.from<Notes>({ items: ["before"] });
    const writer = await openWireClient(url);
    await writer.join("writer");
    expect(await pushDocument(writer, documentId, doc)).toBe("acked");
    const created = await call(base, "POST", "/api/share", { sessionID });
    expect(created.status).toBe(201);
    const { secret } = created.body;
    const early = await openViewer(base, `id=${shareId}&v=2`);
    expect(await early.waitFrames(1)).toMatchObject([{ type: "state", seq: 0 }]);

    // Fill the disk: the first refusal, then every further write is refused too.
    const { acked, refusal } = await fillWithShareItems(base, secret);
    expect(acked.length).toBeGreaterThan(3);
    expect(refusal.status).toBe(503);
    expect(refusal.body.error.code).toBe("ERR_SHARE_STORAGE");
    expect(refusal.text).not.toContain(disk.path);
    expect((await early.closed).code).toBe(1011); // its share is reloaded from the store
    for (const n of [acked.length, acked.length + 1, acked.length + 2]) {
      const again = await syncShare(base, secret, n);
      expect([again.status, again.body.error?.code]).toEqual([503, "ERR_SHARE_STORAGE"]);
    }
    expect(alive(server)).toBe(true);

    // Degraded, and says so; reads are served.
    const degraded = await health(base);
    expect(degraded.status).toBe(200);
    expect(degraded.body).toMatchObject({
      status: "degraded",
      store: { driver: "lmdb", state: "open", writable: false, lastError: "ERR_STORE_WRITE" },
    });
    expect(await metric(base, "syncline_store_degraded")).toBe(1);
    expect(await metric(base, 'syncline_store_write_failures_total{operation="write"}')).toBe(4);
    expectShareHolds((await shareData(base)).texts, acked);
    const viewer = await openViewer(base, `id=${shareId}&v=2`);
    const state = (await viewer.waitFrames(acked.length + 1, 20_000)).at(-1);
    expect(state).toMatchObject({ type: "state", seq: acked.length });
    viewer.socket.terminate();
    expect(await readDocument(url, documentId)).toEqual({ items: ["before"] });

    // An Automerge change that needs the disk: its socket is closed 1011, nothing acknowledged.
    doc = A.change(doc, (d) => {
      d.blob = incompressible(300 * 1024);
    });
    expect(await pushDocument(writer, documentId, doc)).toBe(1011);
    expect(alive(server)).toBe(true);
    expect(await readDocument(url, documentId)).toEqual({ items: ["before"] });

    // Space is back: writes succeed without a restart, and health is ok again.
    await rm(filler);
    const next = acked.length;
    const resumed = await syncShare(base, secret, next);
    expect([resumed.status, resumed.body.seq]).toEqual([200, next + 1]);
    acked.push(next);
    expect((await health(base)).body).toMatchObject({ status: "ok", store: { writable: true } });
    expect(await metric(base, "syncline_store_degraded")).toBe(0);
    await appendAfterRecovery(url, documentId);
    expect(await readDocument(url, documentId)).toEqual({ items: ["before", "after"] });

    // Stopped and restarted on the same directory: everything acknowledged is there.
    const stopped = await stopServe(server.child);
    expect(stopped.code).toBe(0);
    expect(stopped.stderr).not.toMatch(/unhandled rejection/i);
    const second = await serve();
    const reread = await shareData(second.base);
    expectShareHolds(reread.texts, acked);
    expect(reread.seq).toBe(acked.length);
    expect(await readDocument(second.url, documentId)).toEqual({ items: ["before", "after"] });
    const final = await stopServe(second.child);
    expect(final.code).toBe(0);
    expect(final.stderr).not.toMatch(/unhandled rejection/i);
  }, 60_000);
});

/** A new writer appends "after" to the document as the server serves it; acknowledged. */
async function appendAfterRecovery(url: string, documentId: string): Promise<void> {
  const served = (await fetchDocument(url, documentId)) as A.Doc<Notes>;
  const doc = A.change(served, (d) => {
    d.items.push("after");
  });
  const writer = await openWireClient(url);
  try {
    await writer.join("writer");
    expect(await pushDocument(writer, documentId, doc)).toBe("acked");
  } finally {
    writer.socket.terminate();
  }
}
