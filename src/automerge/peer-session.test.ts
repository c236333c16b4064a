import * as A from "@automerge/automerge";
import { Encoder } from "cbor-x";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type DecodedRepoMessage,
  decodeRepoMessage,
  encodeRepoMessage,
  type RepoMessage,
} from "../protocol/automerge-messages.js";
import type { Store } from "../storage/store.js";
import { generateDocumentId } from "../util/ids.js";
import { DocumentHub } from "./document-hub.js";
import { PeerSession } from "./peer-session.js";
import { hubSettings } from "./testing/hub-settings.js";
import { createMapStore } from "./testing/map-store.js";

/** A session on a fake socket that records what it sent and how it closed. */
function connect(hub: DocumentHub) {
  const sent: DecodedRepoMessage[] = [];
  const socket = {
    sent,
    closed: undefined as { code: number; reason: string } | undefined,
    /** What the socket's output budget answers: false plays a peer that does not read. */
    admitting: true,
  };
  const session = new PeerSession(
    {
      send: (frame) => sent.push(decodeRepoMessage(frame)),
      admits: () => socket.admitting,
      close: (code, reason) => {
        socket.closed = { code, reason };
        session.socketClosed();
      },
    },
    { hub, storageId: "storage-1" },
  );
  const send = (message: RepoMessage) => session.receive(encodeRepoMessage(message));
  const join = (peerId: string, versions = ["1"]) =>
    send({
      type: "join",
      senderId: peerId,
      peerMetadata: { isEphemeral: true },
      supportedProtocolVersions: versions,
    });
  return { session, socket, send, join };
}

const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(check()).toBe(true);
};

let store: Store;
let hub: DocumentHub;

beforeEach(() => {
  store = createMapStore();
  hub = new DocumentHub({ store, serverPeerId: "server", settings: hubSettings() });
});

afterEach(async () => {
  await hub.close();
});

describe("PeerSession", () => {
  it("answers join with peer, naming the server and its storage id", () => {
    const peer = connect(hub);
    peer.join("alice");
    expect(peer.session.state).toBe("joined");
    expect(peer.socket.sent).toEqual([
      {
        type: "peer",
        senderId: "server",
        peerMetadata: { storageId: "storage-1", isEphemeral: false },
        selectedProtocolVersion: "1",
        targetId: "alice",
      },
    ]);
  });

  it("sends error and closes 4406 on a version mismatch", () => {
    const peer = connect(hub);
    peer.join("alice", ["2"]);
    expect(peer.socket.sent[0]).toMatchObject({ type: "error", targetId: "alice" });
    expect(peer.socket.closed?.code).toBe(4406);
    expect(peer.session.state).toBe("closed");
  });

  it("closes 4400 on a message before join", () => {
    const peer = connect(hub);
    peer.send({ type: "leave", senderId: "alice" });
    expect(peer.socket.closed?.code).toBe(4400);
  });

  it.each([
    ["CBOR null", new Uint8Array([0xf6])],
    ["not CBOR", new Uint8Array([0xff, 0x00, 0x13])],
    ["a map without type", new Encoder().encode({ senderId: "x" })],
    [
      "a sync whose data is a string",
      new Encoder().encode({
        type: "sync",
        senderId: "alice",
        targetId: "server",
        documentId: "x",
        data: "no",
      }),
    ],
  ])("closes 4400 on %s, after join too", (_name, frame) => {
    const peer = connect(hub);
    peer.join("alice");
    peer.session.receive(frame);
    expect(peer.socket.closed?.code).toBe(4400);
  });

  it("closes 4400 on a sync naming something that is not a document id", () => {
    const peer = connect(hub);
    peer.join("alice");
    const data = A.generateSyncMessage(A.init(), A.initSyncState())[1] as Uint8Array;
    peer.send({ type: "sync", senderId: "alice", targetId: "server", documentId: "../x", data });
    expect(peer.socket.closed?.code).toBe(4400);
  });

  it("drops frames sent on behalf of another peer id", async () => {
    const peer = connect(hub);
    peer.join("alice");
    const data = A.generateSyncMessage(A.init(), A.initSyncState())[1] as Uint8Array;
    const documentId = generateDocumentId();
    peer.send({ type: "request", senderId: "mallory", targetId: "server", documentId, data });
    await new Promise((r) => setTimeout(r, 30));
    expect(peer.socket.sent).toHaveLength(1);
    expect(peer.socket.closed).toBeUndefined();
  });

  it("answers a request for an unknown document with doc-unavailable", async () => {
    const peer = connect(hub);
    peer.join("alice");
    const data = A.generateSyncMessage(A.init(), A.initSyncState())[1] as Uint8Array;
    const documentId = generateDocumentId();
    peer.send({ type: "request", senderId: "alice", targetId: "server", documentId, data });
    await until(() => peer.socket.sent.length === 2);
    expect(peer.socket.sent[1]).toEqual({
      type: "doc-unavailable",
      senderId: "server",
      targetId: "alice",
      documentId,
    });
  });

  it("ignores remote-subscription-change, remote-heads-changed, leave and unknown types", () => {
    const peer = connect(hub);
    peer.join("alice");
    peer.send({
      type: "remote-subscription-change",
      senderId: "alice",
      targetId: "server",
      add: ["s"],
    });
    peer.send({
      type: "remote-heads-changed",
      senderId: "alice",
      targetId: "server",
      documentId: generateDocumentId(),
      newHeads: {},
    });
    peer.send({ type: "leave", senderId: "alice" });
    peer.session.receive(new Encoder().encode({ type: "future-thing", senderId: "alice" }));
    expect(peer.socket.closed).toBeUndefined();
    expect(peer.socket.sent).toHaveLength(1);
  });

  it("answers a repeated join only while the peer's output is within budget", () => {
    const peer = connect(hub);
    peer.join("alice");
    peer.join("alice");
    expect(peer.socket.sent.filter((m) => m.type === "peer")).toHaveLength(2);
    peer.socket.admitting = false;
    peer.join("alice");
    expect(peer.socket.sent.filter((m) => m.type === "peer")).toHaveLength(2);
    expect(peer.socket.closed).toBeUndefined();
  });

  it("relays an ephemeral frame by its size: one above the limit reaches nobody", async () => {
    const documentId = generateDocumentId();
    const alice = connect(hub);
    alice.join("alice");
    const bob = connect(hub);
    bob.join("bob");
    let doc = A.from({ n: 1 });
    let state = A.initSyncState();
    for (let seen = 0; ; ) {
      const [next, data] = A.generateSyncMessage(doc, state);
      state = next;
      if (!data) break;
      alice.send({ type: "sync", senderId: "alice", targetId: "server", documentId, data });
      await until(() => alice.socket.sent.length > seen + 1);
      for (const reply of alice.socket.sent.slice(seen + 1)) {
        if (reply.type === "sync") [doc, state] = A.receiveSyncMessage(doc, state, reply.data);
      }
      seen = alice.socket.sent.length - 1;
    }
    const [, request] = A.generateSyncMessage(A.init(), A.initSyncState());
    bob.send({
      type: "request",
      senderId: "bob",
      targetId: "server",
      documentId,
      data: request as Uint8Array,
    });
    await until(() => bob.socket.sent.some((m) => m.type === "sync"));
    const ephemeral = (count: number, bytes: number) =>
      alice.send({
        type: "ephemeral",
        senderId: "alice",
        targetId: "server",
        documentId,
        count,
        sessionId: "s",
        data: new Uint8Array(bytes),
      });
    ephemeral(1, 100);
    ephemeral(2, 64 * 1024); // its frame is above the 64 KiB limit of hubSettings()
    const relayed = bob.socket.sent.filter((m) => m.type === "ephemeral");
    expect(relayed.map((m) => (m as { count: number }).count)).toEqual([1]);
  });

  it("closes the older socket when a peer id joins again", () => {
    const first = connect(hub);
    first.join("alice");
    const second = connect(hub);
    second.join("alice");
    expect(first.socket.closed?.code).toBe(4409);
    expect(second.socket.closed).toBeUndefined();
    expect(hub.stats.peers).toBe(1);
  });

  it("detaches the peer when the socket closes", () => {
    const peer = connect(hub);
    peer.join("alice");
    expect(hub.stats.peers).toBe(1);
    peer.session.socketClosed();
    expect(hub.stats.peers).toBe(0);
  });
});

describe("PeerSession with an awkward peer id", () => {
  it("fails cleanly when the peer id is long and multi-byte", () => {
    const peer = connect(hub);
    peer.join("ü".repeat(200), ["2"]);
    expect(peer.socket.closed?.code).toBe(4406);
  });
});
