import { describe, expect, it } from "vitest";
import type { ShareItem } from "../../protocol/share-items.js";
import { type Batch, SessionBatches } from "./session-batches.js";

const item = (title: string): ShareItem => ({ type: "session", data: { id: "ses_a", title } });
const keysOf = (batch: Batch | undefined) => [...(batch?.keys() ?? [])];
const titleOf = (batch: Batch | undefined, key: string) =>
  (batch?.get(key)?.data as { title?: string } | undefined)?.title;

describe("SessionBatches", () => {
  it("take() hands over everything pending (newest value per key) and empties it", () => {
    const batches = new SessionBatches();
    expect(batches.take()).toBeUndefined();
    batches.add("a", item("a1"));
    batches.add("b", item("b1"));
    batches.add("a", item("a2"));
    const taken = batches.take();
    expect(taken?.fromChunk).toBe(false);
    expect(keysOf(taken?.batch)).toEqual(["a", "b"]);
    expect(titleOf(taken?.batch, "a")).toBe("a2");
    expect(batches.pendingSize).toBe(0);
    expect(batches.take()).toBeUndefined();
  });

  it("parts go before pending, without keys that have a newer pending value", () => {
    const batches = new SessionBatches();
    batches.sendFirst(new Map([["a", item("a1")]]), new Map([["b", item("b1")]]));
    batches.add("a", item("a2"));
    batches.add("c", item("c1"));
    // The first part held only "a", which is pending anew: it is skipped.
    expect(batches.take()).toEqual({ batch: new Map([["b", item("b1")]]), fromChunk: true });
    expect(batches.hasChunks).toBe(false);
    const rest = batches.take();
    expect(keysOf(rest?.batch)).toEqual(["a", "c"]);
    expect(titleOf(rest?.batch, "a")).toBe("a2");
  });

  it("putBack() keeps each key's first position and the newer value", () => {
    const batches = new SessionBatches();
    batches.add("a", item("a1"));
    batches.add("b", item("b1"));
    const taken = batches.take();
    if (taken === undefined) throw new Error("nothing taken");
    batches.add("c", item("c1"));
    batches.add("a", item("a2"));
    batches.putBack(taken);
    const again = batches.take();
    expect(keysOf(again?.batch)).toEqual(["a", "b", "c"]);
    expect(titleOf(again?.batch, "a")).toBe("a2");
  });

  it("a part put back goes first again, as one part", () => {
    const batches = new SessionBatches();
    batches.sendFirst(new Map([["a", item("a1")]]));
    batches.add("b", item("b1"));
    const taken = batches.take();
    if (taken === undefined) throw new Error("nothing taken");
    batches.putBack(taken);
    expect(batches.take()).toEqual({ batch: new Map([["a", item("a1")]]), fromChunk: true });
  });

  it("keys() counts the batch in flight, parts and pending once each", () => {
    const batches = new SessionBatches();
    batches.inflight = new Map([["a", item("a1")]]);
    batches.sendFirst(new Map([["b", item("b1")]]));
    batches.add("a", item("a2"));
    batches.add("c", item("c1"));
    expect([...batches.keys()]).toEqual(["a", "b", "c"]);
  });

  it("drain() returns the given batch and everything held, newest values, and empties it", () => {
    const batches = new SessionBatches();
    batches.sendFirst(new Map([["b", item("b1")]]));
    batches.add("a", item("a2"));
    const dropped = batches.drain(new Map([["a", item("a1")]]));
    expect(dropped).toEqual([
      { key: "a", item: item("a2") },
      { key: "b", item: item("b1") },
    ]);
    expect(batches.keys().size).toBe(0);
  });
});
