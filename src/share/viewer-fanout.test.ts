import { describe, expect, it } from "vitest";
import { EncodedFrame, type FrameBatch } from "./encoded-frame.js";
import { ViewerFanout, type ViewerSocket } from "./viewer-fanout.js";

/** Records each batch it is sent: one entry per write, with the texts it carried. */
class FakeSocket implements ViewerSocket {
  writes: string[][] = [];
  batches: FrameBatch[] = [];
  buffered = 0;
  closed: { code: number; reason: string } | undefined;
  events: string[] = [];
  send(batch: FrameBatch) {
    this.batches.push(batch);
    this.writes.push(batch.frames.map((frame) => frame.text.toString()));
    this.events.push("write");
  }
  get sent(): string[] {
    return this.writes.flat();
  }
  bufferedAmount() {
    return this.buffered;
  }
  close(code: number, reason: string) {
    this.closed = { code, reason };
    this.events.push(`close ${code}`);
  }
}

const tick = () => new Promise((resolve) => process.nextTick(resolve));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const frames = (...texts: string[]) => texts.map((text) => new EncodedFrame(Buffer.from(text)));
const limits = (maxBufferedBytes: number, flushIntervalMs = 0) => ({
  maxBufferedBytes,
  flushIntervalMs,
});

describe("ViewerFanout", () => {
  it("sends the initial frames at once and every broadcast to every viewer, in order", async () => {
    let delivered = 0;
    const fanout = new ViewerFanout(limits(1000), { delivered: (n) => (delivered += n) });
    const a = new FakeSocket();
    const b = new FakeSocket();
    fanout.add(a, frames("init"));
    fanout.add(b, []);
    expect(a.writes).toEqual([["init"]]);
    fanout.broadcast(frames("1", "2"));
    await tick();
    expect(a.sent).toEqual(["init", "1", "2"]);
    expect(b.sent).toEqual(["1", "2"]);
    expect(delivered).toBe(5);
  });

  it("writes a turn's broadcasts as one batch: one write per viewer, the same bytes for all", async () => {
    const fanout = new ViewerFanout(limits(1000), { delivered() {} });
    const a = new FakeSocket();
    const b = new FakeSocket();
    fanout.add(a, []);
    fanout.add(b, []);
    fanout.broadcast(frames("1"));
    fanout.broadcast(frames("2", "3"));
    expect(a.writes).toEqual([]);
    await tick();
    expect(a.writes).toEqual([["1", "2", "3"]]);
    expect(b.batches[0]).toBe(a.batches[0]);
    // The wire bytes: three complete frames back to back, concatenated once.
    expect(a.batches[0]?.wire.toString("latin1")).toBe("\x81\x011\x81\x012\x81\x013");
    fanout.broadcast(frames("4"));
    await tick();
    expect(a.writes).toEqual([["1", "2", "3"], ["4"]]);
  });

  it("sends a broadcast after a quiet spell at once, and lets those close behind it wait for the interval", async () => {
    const fanout = new ViewerFanout(limits(1000, 60), { delivered() {} });
    const socket = new FakeSocket();
    fanout.add(socket, []);
    fanout.broadcast(frames("1"));
    await tick();
    expect(socket.writes).toEqual([["1"]]);
    fanout.broadcast(frames("2"));
    fanout.broadcast(frames("3"));
    await tick();
    expect(socket.writes).toEqual([["1"]]);
    await sleep(90);
    expect(socket.writes).toEqual([["1"], ["2", "3"]]);
  });

  it("does not hold a megabyte of pending frames for the interval", async () => {
    const fanout = new ViewerFanout(limits(4_000_000, 60_000), { delivered() {} });
    const socket = new FakeSocket();
    fanout.add(socket, []);
    fanout.broadcast(frames("first"));
    await tick();
    fanout.broadcast(frames("a".repeat(600_000)));
    await tick();
    expect(socket.writes).toHaveLength(1);
    fanout.broadcast(frames("b".repeat(600_000)));
    await tick();
    expect(socket.writes).toHaveLength(2);
    expect(socket.writes[1]).toHaveLength(2);
  });

  it("gives a viewer that joins while frames are pending only the frames after it joined", async () => {
    let delivered = 0;
    const fanout = new ViewerFanout(limits(1000), { delivered: (n) => (delivered += n) });
    const early = new FakeSocket();
    const late = new FakeSocket();
    fanout.add(early, []);
    fanout.broadcast(frames("1"));
    // Its initial state was taken after "1" was committed: it holds "1" already.
    fanout.add(late, frames("state with 1"));
    fanout.broadcast(frames("2"));
    await tick();
    expect(early.sent).toEqual(["1", "2"]);
    expect(late.sent).toEqual(["state with 1", "2"]);
    expect(delivered).toBe(4);
    fanout.broadcast(frames("3"));
    await tick();
    expect(late.sent).toEqual(["state with 1", "2", "3"]);
  });

  it("closes a viewer whose backlog passes its allowance with 4429; the others keep going", async () => {
    let slow = 0;
    const fanout = new ViewerFanout(limits(100), { delivered() {}, slowViewer: () => slow++ });
    const stuck = new FakeSocket();
    const fine = new FakeSocket();
    fanout.add(stuck, frames("x".repeat(50)));
    fanout.add(fine, []);
    stuck.buffered = 150; // within 100 + the 50-byte initial dump
    fanout.broadcast(frames("1"));
    await tick();
    expect(stuck.closed).toBeUndefined();
    stuck.buffered = 151;
    fanout.broadcast(frames("2"));
    await tick();
    expect(stuck.closed?.code).toBe(4429);
    fanout.broadcast(frames("3"));
    await tick();
    expect(stuck.sent).toEqual(["x".repeat(50), "1"]);
    expect(fine.sent).toEqual(["1", "2", "3"]);
    expect(fanout.size).toBe(1);
    expect(slow).toBe(1);
  });

  it("sends what is pending before closing everyone with the code given", async () => {
    const fanout = new ViewerFanout(limits(100, 60_000), { delivered() {} });
    const a = new FakeSocket();
    fanout.add(a, []);
    fanout.broadcast(frames("1"));
    await tick();
    fanout.broadcast(frames("2"));
    fanout.closeAll(4410, "deleted");
    expect(a.events).toEqual(["write", "write", "close 4410"]);
    expect(a.sent).toEqual(["1", "2"]);
    expect(fanout.size).toBe(0);
    fanout.broadcast(frames("late"));
    await tick();
    expect(a.sent).toEqual(["1", "2"]);
  });

  it("forgets deleted viewers", async () => {
    const fanout = new ViewerFanout(limits(100), { delivered() {} });
    const a = new FakeSocket();
    fanout.add(a, []);
    expect(fanout.delete(a)).toBe(true);
    fanout.broadcast(frames("1"));
    await tick();
    expect(a.sent).toEqual([]);
  });
});
