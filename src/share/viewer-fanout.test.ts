import { describe, expect, it } from "vitest";
import { EncodedFrame } from "./encoded-frame.js";
import { ViewerFanout, type ViewerSocket } from "./viewer-fanout.js";

class FakeSocket implements ViewerSocket {
  sent: string[] = [];
  writes: string[][] = [];
  corked = 0;
  buffered = 0;
  closed: { code: number; reason: string } | undefined;
  #batch: string[] = [];
  send(frame: EncodedFrame) {
    const text = frame.text.toString();
    this.sent.push(text);
    if (this.corked > 0) this.#batch.push(text);
    else this.writes.push([text]);
  }
  bufferedAmount() {
    return this.buffered;
  }
  cork() {
    this.corked++;
  }
  uncork() {
    this.corked--;
    if (this.corked === 0 && this.#batch.length > 0) {
      this.writes.push(this.#batch);
      this.#batch = [];
    }
  }
  close(code: number, reason: string) {
    this.closed = { code, reason };
  }
}

const tick = () => new Promise((resolve) => process.nextTick(resolve));
const frames = (...texts: string[]) => texts.map((text) => new EncodedFrame(Buffer.from(text)));

describe("ViewerFanout", () => {
  it("sends the same Buffer to every viewer, in order", () => {
    let delivered = 0;
    const fanout = new ViewerFanout(1000, { delivered: (n) => (delivered += n) });
    const a = new FakeSocket();
    const b = new FakeSocket();
    fanout.add(a, frames("init"));
    fanout.add(b, []);
    fanout.broadcast(frames("1", "2"));
    expect(a.sent).toEqual(["init", "1", "2"]);
    expect(b.sent).toEqual(["1", "2"]);
    expect(delivered).toBe(5);
  });

  it("corks each socket for a tick so a burst leaves in one write", async () => {
    const fanout = new ViewerFanout(1000, { delivered() {} });
    const socket = new FakeSocket();
    fanout.add(socket, []);
    fanout.broadcast(frames("1"));
    fanout.broadcast(frames("2", "3"));
    expect(socket.writes).toEqual([]);
    await tick();
    expect(socket.writes).toEqual([["1", "2", "3"]]);
    expect(socket.corked).toBe(0);
    fanout.broadcast(frames("4"));
    await tick();
    expect(socket.writes).toEqual([["1", "2", "3"], ["4"]]);
  });

  it("closes a viewer whose backlog passes its allowance with 4429; the others keep going", async () => {
    let slow = 0;
    const fanout = new ViewerFanout(100, { delivered() {}, slowViewer: () => slow++ });
    const stuck = new FakeSocket();
    const fine = new FakeSocket();
    fanout.add(stuck, frames("x".repeat(50)));
    fanout.add(fine, []);
    await tick();
    stuck.buffered = 150; // within 100 + the 50-byte initial dump
    fanout.broadcast(frames("1"));
    expect(stuck.closed).toBeUndefined();
    await tick();
    stuck.buffered = 151;
    fanout.broadcast(frames("2"));
    expect(stuck.closed?.code).toBe(4429);
    fanout.broadcast(frames("3"));
    expect(stuck.sent).toEqual(["x".repeat(50), "1"]);
    expect(fine.sent).toEqual(["1", "2", "3"]);
    expect(fanout.size).toBe(1);
    expect(slow).toBe(1);
    await tick();
    expect(stuck.corked).toBe(0);
  });

  it("does not count the burst being written in the current turn as backlog", () => {
    const fanout = new ViewerFanout(10, { delivered() {} });
    const socket = new FakeSocket();
    fanout.add(socket, frames("initial"));
    socket.buffered = 1000; // corked since add: this turn's frames sit in the queue
    fanout.broadcast(frames("a".repeat(500)));
    fanout.broadcast(frames("b".repeat(500)));
    expect(socket.closed).toBeUndefined();
    expect(socket.sent).toHaveLength(3);
  });

  it("closes everyone with the code given", () => {
    const fanout = new ViewerFanout(100, { delivered() {} });
    const a = new FakeSocket();
    fanout.add(a, []);
    fanout.closeAll(4410, "deleted");
    expect(a.closed?.code).toBe(4410);
    expect(fanout.size).toBe(0);
    fanout.broadcast(frames("late"));
    expect(a.sent).toEqual([]);
  });

  it("forgets deleted viewers", () => {
    const fanout = new ViewerFanout(100, { delivered() {} });
    const a = new FakeSocket();
    fanout.add(a, []);
    expect(fanout.delete(a)).toBe(true);
    fanout.broadcast(frames("1"));
    expect(a.sent).toEqual([]);
  });
});
