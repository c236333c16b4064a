import { describe, expect, it } from "vitest";
import { type FrameSink, FrameWriter } from "./frame-writer.js";

/** A sink that records frames and flushes only when told to. */
function manualSink() {
  const written: Uint8Array[] = [];
  const pending: ((error?: Error) => void)[] = [];
  const sink: FrameSink = {
    send(data, callback) {
      written.push(data);
      pending.push(callback);
    },
  };
  const flushAll = () => {
    for (const callback of pending.splice(0)) callback();
  };
  return { sink, written, flushAll, pending };
}

const frame = (byte: number, size: number) => new Uint8Array(size).fill(byte);

describe("FrameWriter", () => {
  it("sends control frames at once even while bulk is held back", async () => {
    const { sink, written, flushAll } = manualSink();
    const writer = new FrameWriter(sink, { maxBufferedBytes: 100 });
    await writer.sendBulk(frame(1, 100));
    const blocked = writer.sendBulk(frame(2, 10));
    writer.sendControl(frame(9, 5));
    expect(written.map((f) => f[0])).toEqual([1, 9]);
    flushAll();
    await blocked;
    expect(written.map((f) => f[0])).toEqual([1, 9, 2]);
  });

  it("keeps the buffered bytes under the cap and releases waiters in order", async () => {
    const { sink, written, flushAll } = manualSink();
    const writer = new FrameWriter(sink, { maxBufferedBytes: 64 });
    const sends = Array.from({ length: 10 }, (_, i) => writer.sendBulk(frame(i, 32)));
    let maxSeen = 0;
    for (let round = 0; round < 10 && written.length < 10; round++) {
      maxSeen = Math.max(maxSeen, writer.bufferedBytes);
      flushAll();
      await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(sends);
    expect(written.map((f) => f[0])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(maxSeen).toBeLessThanOrEqual(64);
  });

  it("takes a socket error under a write (ECONNRESET) for the connection's loss: ERR_CONNECTION_CLOSED, with the cause", async () => {
    const { sink, pending } = manualSink();
    const writer = new FrameWriter(sink, { maxBufferedBytes: 10 });
    await writer.sendBulk(frame(1, 10));
    const waiting = writer.sendBulk(frame(2, 1));
    const reset = Object.assign(new Error("write ECONNRESET"), { code: "ECONNRESET" });
    pending.shift()?.(reset);
    const expected = {
      code: "ERR_CONNECTION_CLOSED",
      message: "wire: connection lost while sending: write ECONNRESET",
      cause: reset,
    };
    await expect(waiting).rejects.toMatchObject(expected);
    await expect(writer.sendBulk(frame(3, 1))).rejects.toMatchObject(expected);
  });

  it("rejects waiting bulk sends when closed, and after", async () => {
    const { sink } = manualSink();
    const writer = new FrameWriter(sink, { maxBufferedBytes: 10 });
    await writer.sendBulk(frame(1, 10));
    const waiting = writer.sendBulk(frame(2, 1));
    writer.close();
    await expect(waiting).rejects.toMatchObject({ code: "ERR_CONNECTION_CLOSED" });
    await expect(writer.sendBulk(frame(3, 1))).rejects.toMatchObject({
      code: "ERR_CONNECTION_CLOSED",
    });
  });

  it("a write error closes the writer", async () => {
    const sink: FrameSink = { send: (_data, callback) => callback(new Error("EPIPE")) };
    const writer = new FrameWriter(sink, { maxBufferedBytes: 1 });
    await writer.sendBulk(frame(1, 1));
    await expect(writer.sendBulk(frame(2, 1))).rejects.toThrow("EPIPE");
  });

  it("corks the socket for a tick's burst of bulk frames, once, and uncorks after it", async () => {
    const events: string[] = [];
    const sink: FrameSink = {
      send: (data, callback) => {
        events.push(`send ${data[0]}`);
        callback();
      },
      cork: () => events.push("cork"),
      uncork: () => events.push("uncork"),
    };
    const writer = new FrameWriter(sink, { maxBufferedBytes: 1000 });
    await writer.sendBulk(frame(1, 10));
    await writer.sendBulk(frame(2, 10));
    writer.sendControl(frame(9, 1));
    expect(events).toEqual(["cork", "send 1", "send 2", "send 9"]);
    await new Promise((resolve) => process.nextTick(resolve));
    expect(events.at(-1)).toBe("uncork");
    await writer.sendBulk(frame(3, 10));
    await new Promise((resolve) => setImmediate(resolve));
    expect(events.slice(-3)).toEqual(["cork", "send 3", "uncork"]);
  });
});
