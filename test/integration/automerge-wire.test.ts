// Wire-level robustness of the automerge endpoint with a raw `ws` client: malformed frames
// close only their own socket, and everyone else keeps being served.

import * as A from "@automerge/automerge";
import { Encoder } from "cbor-x";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { generateDocumentId } from "../../src/util/ids.js";
import { wsUrl } from "../helpers/automerge-clients.js";
import {
  openWireClient,
  syncUntilAcknowledged,
  type WireClient,
} from "../helpers/automerge-wire.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

let server: TestServer;
let clients: WireClient[];

const open = async (path = "/") => {
  const client = await openWireClient(wsUrl(server.server.url, path));
  clients.push(client);
  return client;
};

/** A bystander that joined before the bad frame and must keep working after it. */
async function assertStillServing(bystander: WireClient, peerId: string): Promise<void> {
  const documentId = generateDocumentId();
  const doc = A.from({ ok: true });
  await syncUntilAcknowledged(bystander, peerId, documentId, doc);
  const fresh = await open();
  expect((await fresh.join("fresh")).type).toBe("peer");
}

beforeEach(async () => {
  clients = [];
  server = await startTestServer({ automergeMaxMessageBytes: 64 * 1024 });
});

afterEach(async () => {
  for (const client of clients) client.socket.terminate();
  await server.stop();
});

const encoder = new Encoder({ tagUint8Array: false, useRecords: false });

describe("automerge endpoint on the wire", () => {
  it("answers join with peer on any path not otherwise routed", async () => {
    const client = await open("/some/app/path");
    const peer = await client.join("alice");
    expect(peer).toMatchObject({ type: "peer", targetId: "alice", selectedProtocolVersion: "1" });
  });

  it("sends error and closes 4406 when the peer speaks no version we know", async () => {
    const client = await open();
    client.send({
      type: "join",
      senderId: "alice",
      peerMetadata: {},
      supportedProtocolVersions: ["0.9"],
    });
    expect(await client.closed).toBe(4406);
    expect(client.received[0]).toMatchObject({
      type: "error",
      message: "unsupported protocol version",
    });
  });

  it.each([
    ["malformed CBOR", Uint8Array.from([0xbf, 0x61])],
    ["CBOR null", Uint8Array.from([0xf6])],
    [
      "wrong field types",
      encoder.encode({ type: "sync", senderId: "x", targetId: 1, documentId: 2, data: "z" }),
    ],
  ])("%s closes only that socket (4400)", async (_name, frame) => {
    const bystander = await open();
    await bystander.join("bystander");
    const bad = await open();
    await bad.join("bad");
    bad.sendRaw(frame);
    expect(await bad.closed).toBe(4400);
    await assertStillServing(bystander, "bystander");
  });

  it("closes 4400 on a message before join", async () => {
    const client = await open();
    client.send({ type: "leave", senderId: "alice" });
    expect(await client.closed).toBe(4400);
  });

  it("closes 1009 on a frame above the size limit, and keeps serving others", async () => {
    const bystander = await open();
    await bystander.join("bystander");
    const big = await open();
    await big.join("big");
    big.sendRaw(new Uint8Array(65 * 1024));
    expect(await big.closed).toBe(1009);
    await assertStillServing(bystander, "bystander");
  });

  it("answers doc-unavailable for a document it does not have", async () => {
    const client = await open();
    await client.join("alice");
    const documentId = generateDocumentId();
    const data = A.generateSyncMessage(A.init(), A.initSyncState())[1] as Uint8Array;
    client.send({ type: "request", senderId: "alice", targetId: "server", documentId, data });
    const reply = await client.next((m) => m.type === "doc-unavailable");
    expect(reply).toMatchObject({ documentId, targetId: "alice" });
  });
});

describe("automerge keepalive", () => {
  it("terminates a socket that stops answering pings and keeps the others", async () => {
    const keepServer = await startTestServer({}, { automerge: { keepaliveMs: 100 } });
    try {
      const url = wsUrl(keepServer.server.url);
      const healthy = await openWireClient(url);
      const silent = await openWireClient(url, { autoPong: false });
      await healthy.join("healthy");
      await silent.join("silent");
      expect(await silent.closed).toBe(1006); // terminated: no close frame
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(healthy.socket.readyState).toBe(healthy.socket.OPEN);
      healthy.close();
    } finally {
      await keepServer.stop();
    }
  });
});

describe("automerge keepalive forgives a busy client", () => {
  it("keeps a socket that misses one ping and answers the next", async () => {
    const keepServer = await startTestServer({}, { automerge: { keepaliveMs: 200 } });
    try {
      const url = wsUrl(keepServer.server.url);
      // Pongs by hand, each answering the ping before last: always one period late, as a client
      // whose event loop is busy for a whole period answers.
      const late = await openWireClient(url, { autoPong: false });
      let pending: Buffer | undefined;
      late.socket.on("ping", (data: Buffer) => {
        if (pending) late.socket.pong(pending);
        pending = data;
      });
      await late.join("late");
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(late.socket.readyState).toBe(late.socket.OPEN);
      late.close();
    } finally {
      await keepServer.stop();
    }
  });
});

describe("automerge close reasons", () => {
  it("closes a socket whose multi-byte peer id makes the error message long", async () => {
    const local = await startTestServer();
    try {
      const bad = await openWireClient(wsUrl(local.server.url));
      // The version error names the peer id: a reason far beyond WebSocket's 123-byte limit.
      bad.send({
        type: "join",
        senderId: "ü".repeat(300),
        peerMetadata: {},
        supportedProtocolVersions: ["2"],
      });
      expect(await bad.closed).toBe(4406);
      const good = await openWireClient(wsUrl(local.server.url));
      expect((await good.join("good")).type).toBe("peer");
      good.close();
    } finally {
      await local.stop();
    }
  });
});
