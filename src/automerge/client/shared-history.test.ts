import * as Automerge from "@automerge/automerge";
import { describe, expect, it } from "vitest";
import { sharesHistory } from "./shared-history.js";

type Note = { text?: string; n?: number };

/**
 * The client's view after the server's first answer: the server's heads, and the local copy
 * with that answer applied (what sharesHistory sees).
 */
function firstAnswer(local: Automerge.Doc<Note>, server: Automerge.Doc<Note>) {
  const [clientState, hello] = Automerge.generateSyncMessage(local, Automerge.initSyncState());
  const [serverAfter, serverState] = Automerge.receiveSyncMessage(
    server,
    Automerge.initSyncState(),
    hello as Uint8Array,
  );
  const [, answer] = Automerge.generateSyncMessage(serverAfter, serverState);
  const localHeads = Automerge.getHeads(local);
  const [merged] = Automerge.receiveSyncMessage(local, clientState, answer as Uint8Array);
  const { heads } = Automerge.decodeSyncMessage(answer as Uint8Array);
  return { heads, merged, localHeads };
}

/** What sharesHistory says once the client holding `local` got `server`'s first answer. */
function judgeFirstAnswer(local: Automerge.Doc<Note>, server: Automerge.Doc<Note>) {
  const answer = firstAnswer(local, server);
  return sharesHistory(answer.merged, answer.localHeads, answer.heads);
}

function withChanges(doc: Automerge.Doc<Note>, count: number): Automerge.Doc<Note> {
  let next = Automerge.clone(doc);
  for (let i = 0; i < count; i++) {
    next = Automerge.change(next, (d) => {
      d.n = i;
    });
  }
  return next;
}

describe("sharesHistory", () => {
  it("is false for two documents made apart, whatever their content", () => {
    const local = withChanges(Automerge.from<Note>({ text: "mine" }), 3);
    const server = withChanges(Automerge.from<Note>({ text: "mine" }), 5);
    expect(judgeFirstAnswer(local, server)).toBe(false);
  });

  it("is true when the server is ahead of the local copy", () => {
    const local = Automerge.from<Note>({ text: "base" });
    const server = withChanges(local, 4);
    expect(judgeFirstAnswer(local, server)).toBe(true);
  });

  it("is true when both moved on from a common base (a fork)", () => {
    const base = withChanges(Automerge.from<Note>({ text: "base" }), 2);
    const local = Automerge.change(Automerge.clone(base), (d) => {
      d.text = "local";
    });
    const server = Automerge.change(Automerge.clone(base), (d) => {
      d.text = "server";
    });
    expect(judgeFirstAnswer(local, server)).toBe(true);
  });

  it("is true when the server is behind (its heads are local) and sends nothing", () => {
    const server = Automerge.from<Note>({ text: "base" });
    const local = withChanges(server, 3);
    expect(judgeFirstAnswer(local, server)).toBe(true);
  });

  it("cannot tell from a server with nothing, or before the server's changes arrived", () => {
    const local = Automerge.from<Note>({ text: "mine" });
    const heads = Automerge.getHeads(local);
    expect(sharesHistory(local, heads, [])).toBeUndefined();
    const unknownHead = "ab".repeat(32);
    expect(sharesHistory(local, heads, [unknownHead])).toBeUndefined();
    expect(sharesHistory(Automerge.init<Note>(), [], [unknownHead])).toBeUndefined();
  });
});
