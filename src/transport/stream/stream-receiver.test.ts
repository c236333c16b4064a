import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { StreamReceiver, type StreamReceiverOptions } from "./stream-receiver.js";

const sha256 = (bytes: Uint8Array) => new Uint8Array(createHash("sha256").update(bytes).digest());

/** A receiver writing into an in-memory sink of the payload's size. */
function receiverFor(size: number, options: Partial<StreamReceiverOptions> = {}) {
  const sink = new Uint8Array(size);
  const writes: Array<[number, number]> = [];
  const receiver = new StreamReceiver({
    transferId: "t1",
    size,
    writeChunk: async (offset, bytes) => {
      writes.push([offset, bytes.length]);
      sink.set(bytes, offset);
    },
    ...options,
  });
  return { receiver, sink, writes };
}

const protocolError = { code: "ERR_STREAM_PROTOCOL", closeCode: 4400 };

describe("StreamReceiver", () => {
  it("writes in order, verifies END and returns the digest for the ACK", async () => {
    const payload = randomBytes(3000);
    const { receiver, sink, writes } = receiverFor(3000);
    expect(receiver.initialGrant()).toBe(3000);
    await receiver.onData(payload.subarray(0, 1000), false);
    await receiver.onData(payload.subarray(1000, 3000), true);
    expect(receiver.state).toBe("complete");
    await expect(receiver.onEnd(3000, sha256(payload))).resolves.toEqual(sha256(payload));
    expect(receiver.state).toBe("verified");
    expect(sink).toEqual(new Uint8Array(payload));
    expect(writes).toEqual([
      [0, 1000],
      [1000, 2000],
    ]);
  });

  it("eager: the whole payload was granted with the OPEN, so nothing is announced or granted", async () => {
    const payload = randomBytes(3000);
    const { receiver, sink } = receiverFor(3000, { eager: true });
    expect(receiver.initialGrant()).toBe(0);
    expect(receiver.credit).toBe(3000);
    expect(await receiver.onData(payload, true)).toBe(0);
    expect(await receiver.onEnd(3000, sha256(payload))).toEqual(sha256(payload));
    expect(Buffer.from(sink).equals(payload)).toBe(true);
  });

  it("eager: refuses bytes beyond the size, and a payload that does not fit the window", async () => {
    const { receiver } = receiverFor(100, { eager: true });
    await expect(receiver.onData(randomBytes(101), true)).rejects.toMatchObject(protocolError);
    expect(() => receiverFor(5000, { eager: true, window: 4096 })).toThrow(RangeError);
  });

  it("grants a window at start and credit back in batches of a quarter window", async () => {
    const { receiver } = receiverFor(100_000, { window: 1000 });
    expect(receiver.initialGrant()).toBe(1000);
    expect(receiver.initialGrant()).toBe(0);
    const grants: number[] = [];
    for (let i = 0; i < 10; i++) grants.push(await receiver.onData(new Uint8Array(100), false));
    expect(grants).toEqual([0, 0, 300, 0, 0, 300, 0, 0, 300, 0]);
    expect(receiver.credit).toBe(900);
  });

  it("keeps queued bytes within the window when the caller does not await", async () => {
    const { receiver } = receiverFor(10_000, { window: 1000 });
    receiver.initialGrant();
    const pending = Array.from({ length: 10 }, () => receiver.onData(new Uint8Array(100), false));
    await expect(receiver.onData(new Uint8Array(1), false)).rejects.toMatchObject(protocolError);
    await Promise.allSettled(pending);
  });

  it("reports monotonic progress that ends at the size", async () => {
    const { receiver } = receiverFor(1000);
    const progress: number[] = [];
    receiver.on("progress", (received, size) => {
      expect(size).toBe(1000);
      progress.push(received);
    });
    receiver.initialGrant();
    for (let at = 0; at < 1000; at += 250) {
      await receiver.onData(new Uint8Array(250), at + 250 === 1000);
    }
    expect(progress).toEqual([250, 500, 750, 1000]);
  });

  it("verifies an empty payload with no DATA", async () => {
    const { receiver } = receiverFor(0);
    expect(receiver.initialGrant()).toBe(0);
    const empty = sha256(new Uint8Array(0));
    await expect(receiver.onEnd(0, empty)).resolves.toEqual(empty);
  });

  describe("protocol errors", () => {
    it("refuses data beyond the credit", async () => {
      const { receiver } = receiverFor(10_000, { window: 1000 });
      receiver.initialGrant();
      await expect(receiver.onData(new Uint8Array(1001), false)).rejects.toMatchObject(
        protocolError,
      );
      expect(receiver.state).toBe("failed");
      // Every later call fails with the same error.
      await expect(receiver.onData(new Uint8Array(1), false)).rejects.toMatchObject(protocolError);
    });

    it("refuses data before any credit", async () => {
      const { receiver } = receiverFor(100);
      await expect(receiver.onData(new Uint8Array(1), false)).rejects.toMatchObject(protocolError);
    });

    it("refuses data after FIN and after END", async () => {
      const payload = randomBytes(100);
      const afterFin = receiverFor(100).receiver;
      afterFin.initialGrant();
      await afterFin.onData(payload, true);
      await expect(afterFin.onData(new Uint8Array(1), false)).rejects.toMatchObject(protocolError);

      const afterEnd = receiverFor(100).receiver;
      afterEnd.initialGrant();
      await afterEnd.onData(payload, true);
      await afterEnd.onEnd(100, sha256(payload));
      await expect(afterEnd.onData(new Uint8Array(1), false)).rejects.toMatchObject(protocolError);
      expect(afterEnd.state).toBe("verified");
      await expect(afterEnd.onEnd(100, sha256(payload))).rejects.toMatchObject(protocolError);
    });

    it("refuses data beyond the size, a misplaced FIN and an empty frame", async () => {
      for (const [length, fin] of [
        [101, true],
        [50, true],
        [100, false],
        [0, false],
      ] as const) {
        const { receiver } = receiverFor(100, { window: 1000 });
        receiver.initialGrant();
        await expect(receiver.onData(new Uint8Array(length), fin)).rejects.toMatchObject(
          protocolError,
        );
      }
    });

    it("refuses an END with the wrong size, before all data, or with a malformed hash", async () => {
      const payload = randomBytes(100);
      const wrongSize = receiverFor(100).receiver;
      wrongSize.initialGrant();
      await wrongSize.onData(payload, true);
      await expect(wrongSize.onEnd(99, sha256(payload))).rejects.toMatchObject(protocolError);

      const early = receiverFor(100).receiver;
      early.initialGrant();
      await early.onData(payload.subarray(0, 50), false);
      await expect(early.onEnd(100, sha256(payload))).rejects.toMatchObject(protocolError);

      const shortHash = receiverFor(0).receiver;
      await expect(shortHash.onEnd(0, new Uint8Array(31))).rejects.toMatchObject(protocolError);
    });
  });

  it("fails with ERR_STREAM_INTEGRITY when the SHA-256 differs", async () => {
    const payload = randomBytes(100);
    const { receiver } = receiverFor(100);
    receiver.initialGrant();
    await receiver.onData(payload, true);
    const wrong = sha256(payload);
    wrong[0] = (wrong[0] ?? 0) ^ 1;
    await expect(receiver.onEnd(100, wrong)).rejects.toMatchObject({
      code: "ERR_STREAM_INTEGRITY",
    });
    expect(receiver.state).toBe("failed");
  });

  describe("checkDigest: false (a relay whose receivers check the digest)", () => {
    it("passes END's digest on unchecked, still checking size and order", async () => {
      const payload = randomBytes(300);
      const { receiver, sink } = receiverFor(300, { checkDigest: false });
      receiver.initialGrant();
      await receiver.onData(payload.subarray(0, 100), false);
      await receiver.onData(payload.subarray(100), true);
      const claimed = new Uint8Array(32).fill(3);
      await expect(receiver.onEnd(300, claimed)).resolves.toEqual(claimed);
      expect(receiver.state).toBe("verified");
      expect(sink).toEqual(new Uint8Array(payload));
    });

    it("still refuses an END with the wrong size or before all data", async () => {
      const { receiver } = receiverFor(300, { checkDigest: false });
      receiver.initialGrant();
      await receiver.onData(new Uint8Array(100), false);
      await expect(receiver.onEnd(300, new Uint8Array(32))).rejects.toMatchObject(protocolError);
    });

    it("resumes after a held prefix without reading it back, and hands over no hash", async () => {
      const { receiver } = receiverFor(300, { checkDigest: false, initialOffset: 200 });
      expect(receiver.offset).toBe(200);
      receiver.initialGrant();
      await receiver.onData(new Uint8Array(50), false);
      await expect(receiver.handOver()).resolves.toEqual({ offset: 250, hash: undefined });
    });
  });

  it("refuses a payload larger than maxSize with ERR_STREAM_TOO_LARGE", () => {
    expect(() => receiverFor(5_000_001, { maxSize: 5_000_000 })).toThrow(
      expect.objectContaining({ code: "ERR_STREAM_TOO_LARGE" }),
    );
    expect(() => receiverFor(5_000_000, { maxSize: 5_000_000 })).not.toThrow();
  });

  describe("resume", () => {
    it("continues after the held prefix and hashes it through readHeld", async () => {
      const payload = randomBytes(5000);
      const held = new Uint8Array(payload.subarray(0, 3000));
      const reads: number[] = [];
      const { receiver, writes, sink } = receiverFor(5000, {
        initialOffset: 3000,
        readSize: 1024,
        readHeld: async (offset, length) => {
          reads.push(length);
          return held.subarray(offset, offset + length);
        },
      });
      expect(receiver.offset).toBe(3000);
      expect(receiver.initialGrant()).toBe(2000);
      await receiver.onData(payload.subarray(3000), true);
      await expect(receiver.onEnd(5000, sha256(payload))).resolves.toEqual(sha256(payload));
      expect(writes).toEqual([[3000, 2000]]);
      expect(sink.subarray(3000)).toEqual(new Uint8Array(payload.subarray(3000)));
      expect(reads).toEqual([1024, 1024, 952]);
    });

    it("detects a held prefix that changed", async () => {
      const payload = randomBytes(200);
      const { receiver } = receiverFor(200, {
        initialOffset: 100,
        readHeld: async (_offset, length) => new Uint8Array(length),
      });
      receiver.initialGrant();
      await receiver.onData(payload.subarray(100), true);
      await expect(receiver.onEnd(200, sha256(payload))).rejects.toMatchObject({
        code: "ERR_STREAM_INTEGRITY",
      });
    });

    it("verifies a fully held payload with only END", async () => {
      const payload = randomBytes(200);
      const { receiver } = receiverFor(200, {
        initialOffset: 200,
        readHeld: async (offset, length) => payload.subarray(offset, offset + length),
      });
      expect(receiver.initialGrant()).toBe(0);
      await expect(receiver.onEnd(200, sha256(payload))).resolves.toEqual(sha256(payload));
    });

    it("needs readHeld to resume", () => {
      expect(() => receiverFor(200, { initialOffset: 10 })).toThrow(TypeError);
    });
  });

  describe("cancel", () => {
    it("drops queued writes and late frames, and refuses END", async () => {
      let release: () => void = () => {};
      const writes: number[] = [];
      const receiver = new StreamReceiver({
        transferId: "t1",
        size: 1000,
        writeChunk: async (offset) => {
          writes.push(offset);
          await new Promise<void>((resolve) => (release = resolve));
        },
      });
      receiver.initialGrant();
      const first = receiver.onData(new Uint8Array(100), false);
      const second = receiver.onData(new Uint8Array(100), false);
      await new Promise((resolve) => setImmediate(resolve));
      const error = receiver.cancel("user abort");
      expect(error.code).toBe("ERR_STREAM_CANCELLED");
      expect(receiver.cancel("again")).toBe(error);
      release();
      await first;
      await expect(second).rejects.toBe(error);
      expect(writes).toEqual([0]);
      await expect(receiver.onData(new Uint8Array(100), false)).resolves.toBe(0);
      await expect(receiver.onEnd(1000, new Uint8Array(32))).rejects.toBe(error);
      expect(receiver.state).toBe("cancelled");
    });
  });

  it("fails with the sink's error and stops writing", async () => {
    const failure = new Error("disk full");
    let calls = 0;
    const receiver = new StreamReceiver({
      transferId: "t1",
      size: 1000,
      writeChunk: async () => {
        calls++;
        throw failure;
      },
    });
    receiver.initialGrant();
    const first = receiver.onData(new Uint8Array(100), false);
    const second = receiver.onData(new Uint8Array(100), false);
    await expect(first).rejects.toBe(failure);
    await expect(second).rejects.toBe(failure);
    expect(calls).toBe(1);
    expect(receiver.state).toBe("failed");
    expect(receiver.offset).toBe(0);
  });

  it("refuses an OPEN size that is not a count", () => {
    const writeChunk = async () => {};
    for (const size of [-1, 1.5, Number.NaN]) {
      expect(() => new StreamReceiver({ transferId: "t1", size, writeChunk })).toThrow(
        expect.objectContaining({ code: "ERR_STREAM_PROTOCOL" }),
      );
    }
  });
});
