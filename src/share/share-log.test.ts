import { describe, expect, it } from "vitest";
import { ShareLog } from "./share-log.js";

const frame = (seq: number, bytes = 10) => Buffer.alloc(bytes, seq % 256);
const seqs = (frames: { seq: number }[] | undefined) => frames?.map((f) => f.seq);

describe("ShareLog", () => {
  it("gives the frames after since, in order", () => {
    const log = new ShareLog({ maxFrames: 100, maxBytes: 10_000 });
    for (let seq = 1; seq <= 5; seq++) log.append(seq, frame(seq));
    expect(seqs(log.after(2, 5))).toEqual([3, 4, 5]);
    expect(seqs(log.after(0, 5))).toEqual([1, 2, 3, 4, 5]);
    expect(log.after(5, 5)).toEqual([]);
  });

  it("cannot tell for a since beyond the current seq, negative or not an integer", () => {
    const log = new ShareLog({ maxFrames: 100, maxBytes: 10_000 });
    log.append(1, frame(1));
    expect(log.after(2, 1)).toBeUndefined();
    expect(log.after(-1, 1)).toBeUndefined();
    expect(log.after(0.5, 1)).toBeUndefined();
  });

  it("cannot tell once the frames after since were dropped (count bound)", () => {
    const log = new ShareLog({ maxFrames: 3, maxBytes: 10_000 });
    for (let seq = 1; seq <= 10; seq++) log.append(seq, frame(seq));
    expect(log.size).toBe(3);
    expect(seqs(log.after(7, 10))).toEqual([8, 9, 10]);
    expect(log.after(6, 10)).toBeUndefined();
  });

  it("is bounded by bytes but keeps at least the latest frame", () => {
    const log = new ShareLog({ maxFrames: 100, maxBytes: 25 });
    for (let seq = 1; seq <= 4; seq++) log.append(seq, frame(seq, 10));
    expect(seqs(log.after(2, 4))).toEqual([3, 4]);
    expect(log.after(1, 4)).toBeUndefined();
    log.append(5, frame(5, 100));
    expect(seqs(log.after(4, 5))).toEqual([5]);
  });

  it("knows nothing older than a fresh start (a share loaded from storage)", () => {
    const log = new ShareLog({ maxFrames: 100, maxBytes: 10_000 });
    expect(log.after(3, 7)).toBeUndefined();
    expect(log.after(7, 7)).toEqual([]);
    log.append(8, frame(8));
    expect(seqs(log.after(7, 8))).toEqual([8]);
    expect(log.after(6, 8)).toBeUndefined();
  });

  it("starts over rather than keep a gap", () => {
    const log = new ShareLog({ maxFrames: 100, maxBytes: 10_000 });
    log.append(1, frame(1));
    log.append(5, frame(5));
    expect(log.after(0, 5)).toBeUndefined();
    expect(seqs(log.after(4, 5))).toEqual([5]);
  });

  it("stays correct over many appends (compaction)", () => {
    const log = new ShareLog({ maxFrames: 10, maxBytes: 1_000_000 });
    for (let seq = 1; seq <= 5000; seq++) log.append(seq, frame(seq));
    expect(seqs(log.after(4990, 5000))).toEqual([
      4991, 4992, 4993, 4994, 4995, 4996, 4997, 4998, 4999, 5000,
    ]);
  });
});
