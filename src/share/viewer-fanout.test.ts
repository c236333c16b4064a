import { describe, expect, it } from "vitest";
import { EncodedFrame } from "./encoded-frame.js";
import { catchUpStart, ShareSnapshot, StoredItem } from "./share-snapshot.js";
import { ViewerFanout, type ViewerSocket } from "./viewer-fanout.js";

/**
 * Records each write: one entry per write, with the texts of the frames it carried. `full`
 * makes it ask to be drained; `drain()` and `hangUp()` end the wait.
 */
class FakeSocket implements ViewerSocket {
  writes: string[][] = [];
  parts: Uint8Array[][] = [];
  buffered = 0;
  full = false;
  open = true;
  closed: { code: number; reason: string } | undefined;
  events: string[] = [];
  #wake: ((open: boolean) => void) | undefined;
  write(parts: readonly Uint8Array[]) {
    if (!this.open) return false;
    this.parts.push([...parts]);
    this.writes.push(framesIn(Buffer.concat(parts)));
    this.events.push("write");
    return true;
  }
  needsDrain() {
    return this.full;
  }
  drained() {
    return new Promise<boolean>((resolve) => {
      this.#wake = resolve;
    });
  }
  drain() {
    this.full = false;
    this.#wake?.(true);
  }
  get sent(): string[] {
    return this.writes.flat();
  }
  bufferedAmount() {
    return this.buffered;
  }
  close(code: number, reason: string) {
    this.closed = { code, reason };
    this.open = false;
    this.events.push(`close ${code}`);
    this.#wake?.(false);
  }
}

/** The texts of the (final, unmasked) WebSocket text frames in `bytes`. */
function framesIn(bytes: Buffer): string[] {
  const texts: string[] = [];
  for (let at = 0; at < bytes.byteLength; ) {
    const short = (bytes[at + 1] as number) & 0x7f;
    const header = short === 126 ? 4 : short === 127 ? 10 : 2;
    const length =
      short === 126
        ? bytes.readUInt16BE(at + 2)
        : short === 127
          ? Number(bytes.readBigUInt64BE(at + 2))
          : short;
    texts.push(bytes.subarray(at + header, at + header + length).toString());
    at += header + length;
  }
  return texts;
}

const tick = () => new Promise((resolve) => process.nextTick(resolve));
const turn = () => new Promise((resolve) => setImmediate(resolve));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const frames = (...texts: string[]) => texts.map((text) => new EncodedFrame(Buffer.from(text)));
/** What a viewer joining with these catch-up frames is streamed first. */
const first = (...texts: string[]) => catchUpStart(frames(...texts));
const nothing = first();
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
    fanout.add(a, first("init"));
    fanout.add(b, nothing);
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
    fanout.add(a, nothing);
    fanout.add(b, nothing);
    fanout.broadcast(frames("1"));
    fanout.broadcast(frames("2", "3"));
    expect(a.writes).toEqual([]);
    await tick();
    expect(a.writes).toEqual([["1", "2", "3"]]);
    expect(b.parts[0]?.[0]).toBe(a.parts[0]?.[0]);
    // The wire bytes: three complete frames back to back, concatenated once.
    expect(a.parts[0]).toHaveLength(1);
    expect(Buffer.from(a.parts[0]?.[0] as Uint8Array).toString("latin1")).toBe(
      "\x81\x011\x81\x012\x81\x013",
    );
    fanout.broadcast(frames("4"));
    await tick();
    expect(a.writes).toEqual([["1", "2", "3"], ["4"]]);
  });

  it("sends a broadcast after a quiet spell at once, and lets those close behind it wait for the interval", async () => {
    const fanout = new ViewerFanout(limits(1000, 60), { delivered() {} });
    const socket = new FakeSocket();
    fanout.add(socket, nothing);
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
    fanout.add(socket, nothing);
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
    fanout.add(early, nothing);
    fanout.broadcast(frames("1"));
    // Its initial state was taken after "1" was committed: it holds "1" already.
    fanout.add(late, first("state with 1"));
    fanout.broadcast(frames("2"));
    await tick();
    expect(early.sent).toEqual(["1", "2"]);
    expect(late.sent).toEqual(["state with 1", "2"]);
    expect(delivered).toBe(4);
    fanout.broadcast(frames("3"));
    await tick();
    expect(late.sent).toEqual(["state with 1", "2", "3"]);
  });

  it("closes a viewer with more than its allowance unsent with 4429; the others keep going", async () => {
    let slow = 0;
    const fanout = new ViewerFanout(limits(100), { delivered() {}, slowViewer: () => slow++ });
    const stuck = new FakeSocket();
    const fine = new FakeSocket();
    fanout.add(stuck, first("x".repeat(50)));
    fanout.add(fine, nothing);
    await turn();
    stuck.buffered = 100; // at the limit: its first frames do not count beyond it
    fanout.broadcast(frames("1"));
    await tick();
    expect(stuck.closed).toBeUndefined();
    stuck.buffered = 101;
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

  it("streams a joining viewer's first frames as it reads, holding live frames until they are done", async () => {
    let delivered = 0;
    const fanout = new ViewerFanout(limits(1000), { delivered: (n) => (delivered += n) });
    const socket = new FakeSocket();
    socket.full = true; // the reader has taken nothing yet
    const big = "y".repeat(120);
    const keys = Array.from(
      { length: 1200 },
      (_, n) => new StoredItem(`k${n}`, Buffer.from(`"${big}"`)),
    );
    fanout.add(socket, new ShareSnapshot(5, "e", keys).viewerStart(2));
    await turn();
    // One batch (about 64 KiB of whole frames) was written; the rest waits for the reader.
    expect(socket.writes).toHaveLength(1);
    const firstBatch = socket.writes[0]?.length as number;
    expect(firstBatch).toBeGreaterThan(1);
    expect(firstBatch).toBeLessThan(1200);
    fanout.broadcast(frames("live 6"));
    await tick();
    expect(socket.sent.includes("live 6")).toBe(false);
    for (let i = 0; i < 10 && !socket.sent.includes("live 6"); i++) {
      socket.full = socket.writes.length % 2 === 1; // it reads, at its own pace
      socket.drain();
      await turn();
    }
    const sent = socket.sent.map((text) => JSON.parse(text.startsWith("{") ? text : "{}"));
    expect(sent.slice(0, 1200).map((frame) => frame.key)).toEqual(keys.map((k) => k.key));
    expect(sent[1200]).toEqual({ type: "state", seq: 5, epoch: "e" });
    expect(socket.sent.at(-1)).toBe("live 6");
    expect(delivered).toBe(1202);
    // Live now: the next broadcast is written at once.
    fanout.broadcast(frames("live 7"));
    await tick();
    expect(socket.sent.at(-1)).toBe("live 7");
  });

  it("closes a viewer whose live frames waiting behind its first frames pass its allowance", async () => {
    let slow = 0;
    const fanout = new ViewerFanout(limits(10), { delivered() {}, slowViewer: () => slow++ });
    const socket = new FakeSocket();
    socket.full = true;
    fanout.add(socket, first("state"));
    await turn();
    fanout.broadcast(frames("12345"));
    await tick();
    expect(socket.closed).toBeUndefined(); // 7 bytes waiting
    fanout.broadcast(frames("67890"));
    await tick();
    expect(socket.closed?.code).toBe(4429);
    expect(slow).toBe(1);
    expect(fanout.size).toBe(0);
    expect(socket.sent).toEqual(["state"]);
  });

  it("stops streaming to a viewer that leaves", async () => {
    const fanout = new ViewerFanout(limits(1000), { delivered() {} });
    const socket = new FakeSocket();
    socket.full = true;
    const keys = Array.from(
      { length: 2000 },
      (_, n) => new StoredItem(`k${n}`, Buffer.from("1".repeat(100))),
    );
    fanout.add(socket, new ShareSnapshot(1, undefined, keys).viewerStart(1));
    await turn();
    expect(socket.writes).toHaveLength(1);
    fanout.delete(socket);
    socket.close(1000, "bye");
    await turn();
    expect(socket.writes).toHaveLength(1);
  });

  it("sends what is pending before closing everyone with the code given", async () => {
    const fanout = new ViewerFanout(limits(100, 60_000), { delivered() {} });
    const a = new FakeSocket();
    fanout.add(a, nothing);
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
    fanout.add(a, nothing);
    expect(fanout.delete(a)).toBe(true);
    fanout.broadcast(frames("1"));
    await tick();
    expect(a.sent).toEqual([]);
  });
});
