import * as Automerge from "@automerge/automerge";
import { describe, expect, it } from "vitest";
import type { DecodedRepoMessage, SyncMessage } from "../../protocol/automerge-messages.js";
import { SyncClientSession, type SyncStep } from "./sync-client-session.js";

const documentId = "4NMNnkMhL8jXrdJ9jamS58PAVdXu";
const peerId = "syncline-cli-test";

type Items = { items: string[] };

const peer: DecodedRepoMessage = {
  type: "peer",
  senderId: "server",
  peerMetadata: { isEphemeral: false },
  selectedProtocolVersion: "1",
  targetId: peerId,
};

/** A server side in memory: one doc and one sync state, answering like the reference. */
function createServer(doc: Automerge.Doc<unknown> | undefined) {
  let current = doc ?? Automerge.init<unknown>();
  let state = Automerge.initSyncState();
  return {
    get doc() {
      return current;
    },
    /** Applies our message; returns its replies. */
    answer(message: SyncMessage): DecodedRepoMessage[] {
      [current, state] = Automerge.receiveSyncMessage(current, state, message.data);
      const [next, data] = Automerge.generateSyncMessage(current, state);
      state = next;
      if (data === null) return [];
      return [{ type: "sync", senderId: "server", targetId: peerId, documentId, data }];
    },
  };
}

/** Runs a session against a server until done or nobody has anything to say. */
function exchange(session: SyncClientSession, server: ReturnType<typeof createServer>) {
  return continueExchange(session, server, session.receive(peer).send);
}

/** Goes on from `pending`, the session's messages not yet answered. */
function continueExchange(
  session: SyncClientSession,
  server: ReturnType<typeof createServer>,
  pending: readonly SyncMessage[],
) {
  let queue = [...pending];
  let step: SyncStep = { send: [], done: false };
  for (let round = 0; round < 20 && queue.length > 0 && !step.done; round++) {
    const replies = queue.flatMap((message) => server.answer(message));
    queue = [];
    for (const reply of replies) {
      step = session.receive(reply);
      queue.push(...step.send);
    }
  }
  return step;
}

/**
 * After the join, the server speaks first from a fresh state of `remote`: its heads and bloom
 * filter, none of its changes. Returns the session's answer.
 */
function serverSpeaksFirst(session: SyncClientSession, remote: Automerge.Doc<unknown>): SyncStep {
  session.receive(peer);
  const [, early] = Automerge.generateSyncMessage(remote, Automerge.initSyncState());
  return session.receive({
    type: "sync",
    senderId: "server",
    targetId: peerId,
    documentId,
    data: early as Uint8Array,
  });
}

describe("SyncClientSession", () => {
  it("joins as an ephemeral peer speaking protocol 1", () => {
    const session = new SyncClientSession({ documentId, peerId, doc: Automerge.init() });
    expect(session.join()).toEqual({
      type: "join",
      senderId: peerId,
      peerMetadata: { isEphemeral: true },
      supportedProtocolVersions: ["1"],
    });
    expect(session.state).toBe("joining");
  });

  it("sends request without a local copy and sync with one", () => {
    const none = new SyncClientSession({ documentId, peerId, doc: Automerge.init() });
    expect(none.receive(peer).send.map((m) => [m.type, m.targetId])).toEqual([
      ["request", "server"],
    ]);
    const local = Automerge.from<Items>({ items: ["x"] });
    const some = new SyncClientSession({ documentId, peerId, doc: local });
    expect(some.receive(peer).send.map((m) => m.type)).toEqual(["sync"]);
    expect(some.state).toBe("syncing");
  });

  it("refuses an error frame or another version as ERR_AUTOMERGE_VERSION", () => {
    const session = () => new SyncClientSession({ documentId, peerId, doc: Automerge.init() });
    expect(() =>
      session().receive({ type: "error", senderId: "s", message: "nope", targetId: peerId }),
    ).toThrow(expect.objectContaining({ code: "ERR_AUTOMERGE_VERSION" }));
    expect(() => session().receive({ ...peer, selectedProtocolVersion: "2" } as never)).toThrow(
      expect.objectContaining({ code: "ERR_AUTOMERGE_VERSION" }),
    );
  });

  it("refuses sync before peer as ERR_AUTOMERGE_PROTOCOL; ignores other documents", () => {
    const session = new SyncClientSession({ documentId, peerId, doc: Automerge.init() });
    const data = new Uint8Array();
    const sync = { type: "sync", senderId: "s", targetId: peerId, documentId, data } as const;
    expect(session.receive({ ...sync, documentId: "other" })).toEqual({ send: [], done: false });
    expect(() => session.receive(sync)).toThrow(
      expect.objectContaining({ code: "ERR_AUTOMERGE_PROTOCOL" }),
    );
  });

  it("pulls the server's document into an empty local copy", () => {
    const server = createServer(Automerge.from<Items>({ items: ["a", "b"] }));
    const session = new SyncClientSession({ documentId, peerId, doc: Automerge.init() });
    expect(exchange(session, server).done).toBe(true);
    const result = session.result();
    expect(result.doc).toEqual({ items: ["a", "b"] });
    expect(result).toMatchObject({ serverPeerId: "server", protocolVersion: "1" });
    expect(result.changesReceived).toBe(1);
    expect(result.changesSent).toBe(0);
  });

  it("pushes a local document to a server without it, finishing once the server has our heads", () => {
    const server = createServer(undefined);
    const local = Automerge.from<Items>({ items: ["mine"] });
    const session = new SyncClientSession({ documentId, peerId, doc: local });
    expect(exchange(session, server).done).toBe(true);
    expect(server.doc).toEqual({ items: ["mine"] });
    expect(session.result().changesSent).toBe(1);
  });

  it("counts changes, not message entries: a 45-change document goes as one chunk each way", () => {
    let many = Automerge.from<Items>({ items: [] });
    for (let i = 1; i < 45; i++) {
      many = Automerge.change(many, (d) => {
        d.items.push(`item ${i}`);
      });
    }
    const server = createServer(undefined);
    const push = new SyncClientSession({ documentId, peerId, doc: many });
    expect(exchange(push, server).done).toBe(true);
    expect(push.result()).toMatchObject({ changesSent: 45, changesReceived: 0 });

    const pull = new SyncClientSession({ documentId, peerId, doc: Automerge.init() });
    expect(exchange(pull, server).done).toBe(true);
    expect(pull.result()).toMatchObject({ changesSent: 0, changesReceived: 45 });
  });

  it("merges diverged copies both ways", () => {
    const base = Automerge.from<Items>({ items: ["base"] });
    const remote = Automerge.change(Automerge.clone(base), (d) => {
      d.items.push("remote");
    });
    const local = Automerge.change(Automerge.clone(base), (d) => {
      d.items.push("local");
    });
    const server = createServer(remote);
    const session = new SyncClientSession({ documentId, peerId, doc: local });
    expect(exchange(session, server).done).toBe(true);
    const merged = session.result().doc as Items;
    expect([...merged.items].sort()).toEqual(["base", "local", "remote"]);
    expect(Automerge.getHeads(server.doc)).toEqual(Automerge.getHeads(session.result().doc));
  });

  it("stops with ERR_SYNC_UNRELATED before sending anything when the local copy is another document", () => {
    const remote = Automerge.from<Items>({ items: ["theirs"] });
    const remoteHeads = Automerge.getHeads(remote);
    const server = createServer(remote);
    const local = Automerge.from<Items>({ items: ["mine"] });
    const session = new SyncClientSession({ documentId, peerId, doc: local });
    expect(() => exchange(session, server)).toThrow(
      expect.objectContaining({ code: "ERR_SYNC_UNRELATED" }),
    );
    // The server got our heads and bloom filter, never our changes.
    expect(Automerge.getHeads(server.doc)).toEqual(remoteHeads);
    expect(session.result().changesSent).toBe(0);
  });

  it("withholds local changes while it cannot yet tell whether the copies are related", () => {
    const remote = Automerge.from<Items>({ items: ["theirs"] });
    const remoteHeads = Automerge.getHeads(remote);
    const server = createServer(remote);
    const local = Automerge.from<Items>({ items: ["mine"] });
    const session = new SyncClientSession({ documentId, peerId, doc: local });
    // Knowing the server's heads, Automerge would now send every local change it lacks.
    const step = serverSpeaksFirst(session, remote);
    expect(step.send.length).toBeGreaterThan(0);
    for (const message of step.send) {
      expect(Automerge.decodeSyncMessage(message.data).changes).toEqual([]);
    }
    // The server's answer brings its history: unrelated, refused, and ours never left.
    const replies = step.send.flatMap((message) => server.answer(message));
    expect(() => {
      for (const reply of replies) session.receive(reply);
    }).toThrow(expect.objectContaining({ code: "ERR_SYNC_UNRELATED" }));
    expect(Automerge.getHeads(server.doc)).toEqual(remoteHeads);
  });

  it("sends the withheld changes once the copies turn out to be related", () => {
    const base = Automerge.from<Items>({ items: ["base"] });
    const remote = Automerge.change(Automerge.clone(base), (d) => {
      d.items.push("remote");
    });
    const server = createServer(remote);
    const local = Automerge.change(Automerge.clone(base), (d) => {
      d.items.push("local");
    });
    const session = new SyncClientSession({ documentId, peerId, doc: local });
    const first = serverSpeaksFirst(session, remote);
    expect(continueExchange(session, server, first.send).done).toBe(true);
    expect([...(server.doc as Items).items].sort()).toEqual(["base", "local", "remote"]);
  });

  it("merges an unrelated local copy when allowUnrelated is set", () => {
    const server = createServer(Automerge.from<Items>({ items: ["theirs"] }));
    const local = Automerge.from<Items>({ items: ["mine"] });
    const session = new SyncClientSession({ documentId, peerId, doc: local, allowUnrelated: true });
    expect(exchange(session, server).done).toBe(true);
    expect(Automerge.getHeads(server.doc)).toEqual(Automerge.getHeads(session.result().doc));
    expect(Automerge.getHeads(server.doc)).toHaveLength(2);
  });

  it("doc-unavailable without a local copy is ERR_DOCUMENT_UNAVAILABLE; with one it is ignored", () => {
    const unavailable = {
      type: "doc-unavailable",
      senderId: "server",
      targetId: peerId,
      documentId,
    } as const;
    const none = new SyncClientSession({ documentId, peerId, doc: Automerge.init() });
    none.receive(peer);
    expect(() => none.receive(unavailable)).toThrow(
      expect.objectContaining({ code: "ERR_DOCUMENT_UNAVAILABLE" }),
    );
    const some = new SyncClientSession({ documentId, peerId, doc: Automerge.from({ a: 1 }) });
    some.receive(peer);
    expect(some.receive(unavailable)).toEqual({ send: [], done: false });
  });

  it("quiet: waits while the server has not answered; an empty answer then means unavailable", () => {
    const session = new SyncClientSession({ documentId, peerId, doc: Automerge.init() });
    const [request] = session.receive(peer).send;
    expect(session.quiet()).toEqual({ send: [], done: false });
    const [emptyReply] = createServer(undefined).answer(request as SyncMessage);
    expect(session.receive(emptyReply as DecodedRepoMessage).done).toBe(false);
    expect(() => session.quiet()).toThrow(
      expect.objectContaining({ code: "ERR_DOCUMENT_UNAVAILABLE" }),
    );
  });

  it("dry run: sends no changes, applies none, and reports whether the server has it", () => {
    const local = Automerge.from<Items>({ items: ["secret"] });
    const server = createServer(Automerge.from<Items>({ items: ["theirs"] }));
    const session = new SyncClientSession({ documentId, peerId, doc: local, dryRun: true });
    const sent = session.receive(peer).send;
    expect(sent.map((m) => m.type)).toEqual(["request"]);
    expect(sent.every((m) => Automerge.decodeSyncMessage(m.data).changes.length === 0)).toBe(true);
    const [reply] = server.answer(sent[0] as SyncMessage);
    expect(session.receive(reply as DecodedRepoMessage).done).toBe(true);
    const result = session.result();
    expect(result.existsOnServer).toBe(true);
    expect(result.doc).toBe(local);
    expect(result.serverHeads).toEqual(Automerge.getHeads(server.doc));

    const missing = new SyncClientSession({ documentId, peerId, doc: local, dryRun: true });
    missing.receive(peer);
    const step = missing.receive({
      type: "doc-unavailable",
      senderId: "server",
      targetId: peerId,
      documentId,
    });
    expect(step.done).toBe(true);
    expect(missing.result().existsOnServer).toBe(false);
  });

  it("dry run without a local copy of a document the server lacks is ERR_DOCUMENT_UNAVAILABLE, as the real run", () => {
    const unavailable = {
      type: "doc-unavailable",
      senderId: "server",
      targetId: peerId,
      documentId,
    } as const;
    const none = new SyncClientSession({ documentId, peerId, doc: Automerge.init(), dryRun: true });
    none.receive(peer);
    expect(() => none.receive(unavailable)).toThrow(
      expect.objectContaining({ code: "ERR_DOCUMENT_UNAVAILABLE" }),
    );
    // A server that answers an empty sync and then goes quiet (no doc-unavailable).
    const quiet = new SyncClientSession({
      documentId,
      peerId,
      doc: Automerge.init(),
      dryRun: true,
    });
    const [request] = quiet.receive(peer).send;
    const [emptyReply] = createServer(undefined).answer(request as SyncMessage);
    expect(quiet.receive(emptyReply as DecodedRepoMessage).done).toBe(false);
    expect(() => quiet.quiet()).toThrow(
      expect.objectContaining({ code: "ERR_DOCUMENT_UNAVAILABLE" }),
    );
  });
});
