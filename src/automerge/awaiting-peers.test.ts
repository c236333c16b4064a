import { describe, expect, it } from "vitest";
import { AwaitingPeers } from "./awaiting-peers.js";
import type { HubPeer } from "./document-entry.js";

const peer = (peerId: string): HubPeer => ({ peerId, send() {}, admits: () => true, fail() {} });

describe("AwaitingPeers", () => {
  it("hands over the peers waiting for a document once, and forgets them", () => {
    const awaiting = new AwaitingPeers();
    const [a, b] = [peer("a"), peer("b")];
    awaiting.add("doc1", a);
    awaiting.add("doc1", b);
    awaiting.add("doc1", a);
    awaiting.add("doc2", a);
    expect(awaiting.size).toBe(3);
    expect(awaiting.take("doc1")).toEqual([a, b]);
    expect(awaiting.take("doc1")).toEqual([]);
    expect(awaiting.size).toBe(1);
    expect(awaiting.take("doc2")).toEqual([a]);
    expect(awaiting.size).toBe(0);
  });

  it("forgets a peer that left, in every document it waited for", () => {
    const awaiting = new AwaitingPeers();
    const [a, b] = [peer("a"), peer("b")];
    awaiting.add("doc1", a);
    awaiting.add("doc2", a);
    awaiting.add("doc2", b);
    awaiting.forget(a);
    expect(awaiting.size).toBe(1);
    expect(awaiting.take("doc1")).toEqual([]);
    expect(awaiting.take("doc2")).toEqual([b]);
  });

  it("remembers at most maxEntries pairs", () => {
    const awaiting = new AwaitingPeers(2);
    const a = peer("a");
    awaiting.add("doc1", a);
    awaiting.add("doc2", a);
    awaiting.add("doc3", a);
    expect(awaiting.size).toBe(2);
    expect(awaiting.take("doc3")).toEqual([]);
    awaiting.take("doc1");
    awaiting.add("doc3", a);
    expect(awaiting.take("doc3")).toEqual([a]);
  });

  it("remembers at most maxPerPeer documents for one peer, leaving room for the others", () => {
    const awaiting = new AwaitingPeers(100, 2);
    const [a, b] = [peer("a"), peer("b")];
    for (const id of ["doc1", "doc2", "doc3"]) awaiting.add(id, a);
    awaiting.add("doc3", b);
    expect(awaiting.size).toBe(3);
    expect(awaiting.take("doc3")).toEqual([b]);
  });
});
