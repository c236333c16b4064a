import { describe, expect, it } from "vitest";
import { ShareState } from "./share-state.js";

/** The snapshot's keys and contents, parsed. */
const contentsOf = (state: ShareState) =>
  Object.fromEntries(
    state.snapshot().items.map((item) => [item.key, JSON.parse(item.content.toString())]),
  );

const limits = { maxFrames: 100, maxBytes: 1_000_000 };
const json = (value: unknown) => JSON.stringify(value);

describe("ShareState", () => {
  it("numbers each changed key, then commits in order and encodes frames once", () => {
    const state = new ShareState(new Map(), 0, limits);
    const planned = state.plan([
      { key: "a", json: json(1) },
      { key: "b", json: json({ x: 2 }) },
    ]);
    expect(planned.map((w) => w.seq)).toEqual([1, 2]);
    expect(state.seq).toBe(0);
    expect(state.assignedSeq).toBe(2);
    const frames = state.commit(planned);
    expect(frames.map((f) => JSON.parse(f.text.toString()))).toEqual([
      { key: "a", content: 1, seq: 1 },
      { key: "b", content: { x: 2 }, seq: 2 },
    ]);
    expect(state.seq).toBe(2);
    expect(contentsOf(state)).toEqual({ a: 1, b: { x: 2 } });
    expect(state.snapshot().seq).toBe(2);
  });

  it("skips writes that change nothing, against durable and in-flight content", () => {
    const state = new ShareState(new Map([["a", json(1)]]), 4, limits);
    expect(state.plan([{ key: "a", json: json(1) }])).toEqual([]);
    const first = state.plan([{ key: "a", json: json(2) }]);
    expect(first.map((w) => w.seq)).toEqual([5]);
    expect(state.plan([{ key: "a", json: json(2) }])).toEqual([]);
    const second = state.plan([{ key: "a", json: json(1) }]);
    expect(second.map((w) => w.seq)).toEqual([6]);
    state.commit(first);
    state.commit(second);
    expect(contentsOf(state)).toEqual({ a: 1 });
  });

  it("refuses a commit out of order", () => {
    const state = new ShareState(new Map(), 0, limits);
    const first = state.plan([{ key: "a", json: "1" }]);
    const second = state.plan([{ key: "b", json: "2" }]);
    expect(() => state.commit(second)).toThrow(/commit of seq 2 after seq 0/);
    state.commit(first);
    state.commit(second);
    expect(state.seq).toBe(2);
  });

  it("keeps one snapshot per seq; the next one shares the bytes of every unchanged key", () => {
    const state = new ShareState(
      new Map([
        ["k", json("v")],
        ["other", json("big")],
      ]),
      1,
      limits,
    );
    const first = state.snapshot();
    expect(state.snapshot()).toBe(first);
    state.commit(state.plan([{ key: "k", json: json("w") }]));
    const second = state.snapshot();
    expect(second).not.toBe(first);
    expect(second.seq).toBe(2);
    expect(contentsOf(state)).toEqual({ k: "w", other: "big" });
    // The first snapshot is unchanged (a reader may still stream it), and shares "other".
    expect(first.items.map((item) => item.content.toString())).toEqual([json("v"), json("big")]);
    expect(second.items[1]?.content).toBe(first.items[1]?.content);
    expect(second.items[1]).toBe(first.items[1]);
  });

  it("gives the frames after since, or undefined when loaded from storage without them", () => {
    const state = new ShareState(new Map([["k", json(0)]]), 10, limits);
    expect(state.framesAfter(10)).toEqual([]);
    expect(state.framesAfter(9)).toBeUndefined();
    state.commit(
      state.plan([
        { key: "k", json: json(1) },
        { key: "j", json: json(2) },
      ]),
    );
    expect(state.framesAfter(10)?.map((f) => JSON.parse(f.text.toString()).seq)).toEqual([11, 12]);
    expect(state.framesAfter(11)?.map((f) => JSON.parse(f.text.toString()).seq)).toEqual([12]);
  });

  it("lists the snapshot's items in key order", () => {
    const state = new ShareState(
      new Map([
        ["b", "2"],
        ["a", "1"],
        ["c", "3"],
      ]),
      3,
      limits,
    );
    expect(state.snapshot().items.map((item) => item.key)).toEqual(["a", "b", "c"]);
  });
  it("counts the JSON bytes of all keys: at load, in flight, and as a replacement's difference", () => {
    const state = new ShareState(
      new Map([
        ["a", json("xx")], // 4 bytes
        ["b", json("é")], // 4 bytes (é is 2 in UTF-8)
      ]),
      2,
      limits,
    );
    expect(state.bytes).toBe(8);
    expect(state.plannedBytes).toBe(8);
    // A new key adds its length, a replacement the difference, an unchanged write nothing.
    const writes = [
      { key: "c", json: json("12345678") }, // 10
      { key: "a", json: json("") }, // 2, was 4
      { key: "b", json: json("é") },
    ];
    expect(state.growth(writes)).toBe(8);
    const first = state.plan(writes);
    expect(state.plannedBytes).toBe(16);
    expect(state.bytes).toBe(8);
    // A second sync in flight is measured against the first one's content, not the durable one.
    expect(state.growth([{ key: "c", json: json("1") }])).toBe(-7);
    const second = state.plan([{ key: "c", json: json("1") }]);
    expect(state.plannedBytes).toBe(9);
    state.commit(first);
    expect(state.bytes).toBe(16);
    state.commit(second);
    expect(state.bytes).toBe(9);
    expect(state.plannedBytes).toBe(9);
  });
});
