import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { type SenderFrame, StreamSender, type StreamSenderOptions } from "./stream-sender.js";

const sha256 = (bytes: Uint8Array) => new Uint8Array(createHash("sha256").update(bytes).digest());

interface Read {
  offset: number;
  length: number;
}

function senderFor(payload: Uint8Array, options: Partial<StreamSenderOptions> = {}) {
  const reads: Read[] = [];
  const sender = new StreamSender({
    transferId: "t1",
    size: payload.length,
    readChunk: async (offset, length) => {
      reads.push({ offset, length });
      return payload.slice(offset, offset + length);
    },
    ...options,
  });
  return { sender, reads };
}

/** Collects frames until the sender blocks or ends. */
async function drain(sender: StreamSender): Promise<SenderFrame[]> {
  const frames: SenderFrame[] = [];
  for (let frame = await sender.nextFrame(); frame; frame = await sender.nextFrame()) {
    frames.push(frame);
  }
  return frames;
}

const dataBytes = (frames: SenderFrame[]) =>
  frames.reduce((sum, frame) => sum + (frame.kind === "data" ? frame.bytes.length : 0), 0);

describe("StreamSender", () => {
  it("sends nothing without credit", async () => {
    const { sender, reads } = senderFor(randomBytes(1000));
    expect(await sender.nextFrame()).toBeNull();
    expect(reads).toEqual([]);
  });

  it("sends chunks up to the credit, a partial chunk for leftover credit, then blocks", async () => {
    const { sender } = senderFor(randomBytes(1000), { chunkSize: 300, initialCredit: 700 });
    const frames = await drain(sender);
    expect(frames.map((f) => (f.kind === "data" ? [f.offset, f.bytes.length, f.fin] : f))).toEqual([
      [0, 300, false],
      [300, 300, false],
      [600, 100, false],
    ]);
    expect(sender.credit).toBe(0);
    expect(sender.position).toBe(700);
  });

  it("marks the last DATA frame FIN, then produces END with the size and SHA-256", async () => {
    const payload = randomBytes(1000);
    const { sender } = senderFor(payload, { chunkSize: 400 });
    sender.grant(5000);
    const frames = await drain(sender);
    expect(frames.map((f) => (f.kind === "data" ? f.fin : f.kind))).toEqual([
      false,
      false,
      true,
      "end",
    ]);
    expect(frames.at(-1)).toEqual({ kind: "end", size: 1000, sha256: sha256(payload) });
    expect(sender.state).toBe("ended");
    expect(await sender.nextFrame()).toBeNull();
  });

  it("sends END at once for an empty payload, without credit", async () => {
    const { sender, reads } = senderFor(new Uint8Array(0));
    expect(await sender.nextFrame()).toEqual({
      kind: "end",
      size: 0,
      sha256: sha256(new Uint8Array(0)),
    });
    expect(reads).toEqual([]);
  });

  it("reports monotonic progress that ends at the size", async () => {
    const { sender } = senderFor(randomBytes(1000), { chunkSize: 256, initialCredit: 1000 });
    const progress: Array<[number, number]> = [];
    sender.on("progress", (sent, size) => progress.push([sent, size]));
    await drain(sender);
    expect(progress).toEqual([
      [256, 1000],
      [512, 1000],
      [768, 1000],
      [1000, 1000],
    ]);
  });

  it("serialises concurrent nextFrame calls", async () => {
    const { sender } = senderFor(randomBytes(1000), { chunkSize: 100, initialCredit: 1000 });
    const frames = await Promise.all(Array.from({ length: 10 }, () => sender.nextFrame()));
    expect(frames.map((f) => (f?.kind === "data" ? f.offset : -1))).toEqual([
      0, 100, 200, 300, 400, 500, 600, 700, 800, 900,
    ]);
  });

  it("refuses invalid credit", () => {
    const { sender } = senderFor(randomBytes(10));
    for (const bytes of [0, -1, 1.5, Number.NaN]) {
      expect(() => sender.grant(bytes)).toThrow(
        expect.objectContaining({ code: "ERR_STREAM_PROTOCOL" }),
      );
    }
  });

  describe("ACK", () => {
    it("completes on the right hash", async () => {
      const payload = randomBytes(100);
      const { sender } = senderFor(payload, { initialCredit: 100 });
      await drain(sender);
      sender.onAck(sha256(payload));
      expect(sender.state).toBe("acked");
    });

    it("fails with ERR_STREAM_INTEGRITY on a different hash", async () => {
      const { sender } = senderFor(randomBytes(100), { initialCredit: 100 });
      await drain(sender);
      expect(() => sender.onAck(new Uint8Array(32))).toThrow(
        expect.objectContaining({ code: "ERR_STREAM_INTEGRITY" }),
      );
      expect(sender.state).toBe("failed");
    });

    it("is a protocol error before END", () => {
      const { sender } = senderFor(randomBytes(100));
      expect(() => sender.onAck(new Uint8Array(32))).toThrow(
        expect.objectContaining({ code: "ERR_STREAM_PROTOCOL", closeCode: 4400 }),
      );
    });
  });

  describe("resume", () => {
    it("starts a new sender at the receiver's offset, hashing the skipped prefix unsent", async () => {
      const payload = randomBytes(10_000);
      const { sender, reads } = senderFor(payload, { chunkSize: 1024, initialCredit: 100_000 });
      sender.resumeFrom(6000);
      const frames = await drain(sender);
      expect(frames[0]).toMatchObject({ kind: "data", offset: 6000 });
      expect(dataBytes(frames)).toBe(4000);
      expect(frames.at(-1)).toEqual({ kind: "end", size: 10_000, sha256: sha256(payload) });
      // The prefix was read (in bounded pieces) but never sent.
      expect(Math.max(...reads.map((r) => r.length))).toBeLessThanOrEqual(1024);
      expect(reads.filter((r) => r.offset < 6000).reduce((s, r) => s + r.length, 0)).toBe(6000);
    });

    it("sends only END when the receiver holds everything", async () => {
      const payload = randomBytes(3000);
      const { sender } = senderFor(payload);
      sender.resumeFrom(3000);
      expect(await drain(sender)).toEqual([{ kind: "end", size: 3000, sha256: sha256(payload) }]);
    });

    it("accepts any offset up to the size before the first frame, and no more", () => {
      const { sender } = senderFor(randomBytes(100));
      for (const offset of [-1, 101, 1.5, Number.NaN]) {
        expect(() => sender.resumeFrom(offset)).toThrow(
          expect.objectContaining({ code: "ERR_STREAM_PROTOCOL" }),
        );
      }
      sender.resumeFrom(0);
      sender.resumeFrom(100);
    });

    it("refuses an offset beyond what this sender produced", async () => {
      const payload = randomBytes(1000);
      const { sender } = senderFor(payload, { chunkSize: 100, initialCredit: 300 });
      await drain(sender);
      expect(() => sender.resumeFrom(301)).toThrow(
        expect.objectContaining({ code: "ERR_STREAM_PROTOCOL" }),
      );
      // Going back (the receiver lost bytes) re-sends them; the hash counts each byte once.
      sender.resumeFrom(200);
      sender.grant(10_000);
      const frames = await drain(sender);
      expect(frames[0]).toMatchObject({ kind: "data", offset: 200 });
      expect(frames.at(-1)).toEqual({ kind: "end", size: 1000, sha256: sha256(payload) });
    });

    it("keeps its END for a resume at the size in state ended (no second END), refuses one after ACK", async () => {
      const payload = randomBytes(10);
      const { sender } = senderFor(payload, { initialCredit: 10 });
      await drain(sender);
      sender.resumeFrom(10);
      expect(sender.state).toBe("ended");
      expect(await drain(sender)).toEqual([]);
      sender.onAck(sha256(payload));
      expect(() => sender.resumeFrom(10)).toThrow(
        expect.objectContaining({ code: "ERR_STREAM_PROTOCOL" }),
      );
    });

    it("an empty payload: the receiver's RESUME 0, arriving after the END, leaves it ended and the ACK completes it", async () => {
      // A receiver always opens with RESUME; an empty payload needs no credit, so its END goes
      // out before that RESUME arrives.
      const { sender } = senderFor(new Uint8Array(0));
      expect(await drain(sender)).toEqual([
        { kind: "end", size: 0, sha256: sha256(new Uint8Array(0)) },
      ]);
      sender.resumeFrom(0);
      expect(await drain(sender)).toEqual([]);
      sender.onAck(sha256(new Uint8Array(0)));
      expect(sender.state).toBe("acked");
    });

    it("drops a chunk read for a position a resume made stale", async () => {
      const payload = randomBytes(1000);
      const reads: number[] = [];
      let release: () => void = () => {};
      const sender = new StreamSender({
        transferId: "t1",
        size: 1000,
        chunkSize: 100,
        initialCredit: 1000,
        readChunk: async (offset, length) => {
          reads.push(offset);
          if (offset === 500 && !reads.slice(0, -1).includes(500))
            await new Promise<void>((resolve) => (release = resolve));
          return payload.slice(offset, offset + length);
        },
      });
      sender.resumeFrom(500);
      const pending = sender.nextFrame();
      // Let the prefix catch-up run until the read at 500 is in progress.
      while (!reads.includes(500)) await new Promise((resolve) => setImmediate(resolve));
      sender.resumeFrom(300);
      release();
      expect(await pending).toMatchObject({ kind: "data", offset: 300 });
      const rest = await drain(sender);
      expect(rest.at(-1)).toEqual({ kind: "end", size: 1000, sha256: sha256(payload) });
    });
  });

  describe("cancel", () => {
    it("rejects further frames with ERR_STREAM_CANCELLED and ignores late peer frames", async () => {
      const { sender } = senderFor(randomBytes(1000), { initialCredit: 100 });
      const error = sender.cancel("user abort");
      expect(error.code).toBe("ERR_STREAM_CANCELLED");
      expect(sender.cancel("again")).toBe(error);
      expect(sender.state).toBe("cancelled");
      await expect(sender.nextFrame()).rejects.toBe(error);
      sender.grant(100);
      sender.resumeFrom(5);
      sender.onAck(new Uint8Array(32));
      expect(sender.state).toBe("cancelled");
    });

    it("discards a chunk whose read was in progress", async () => {
      const { sender } = senderFor(randomBytes(1000), { initialCredit: 100 });
      const pending = sender.nextFrame();
      sender.cancel("stop");
      await expect(pending).rejects.toMatchObject({ code: "ERR_STREAM_CANCELLED" });
    });

    it("leaves an acked transfer acked", async () => {
      const payload = randomBytes(10);
      const { sender } = senderFor(payload, { initialCredit: 10 });
      await drain(sender);
      sender.onAck(sha256(payload));
      sender.cancel("late");
      expect(sender.state).toBe("acked");
    });
  });

  it("fails with ERR_STREAM_SOURCE when the source returns fewer bytes", async () => {
    const sender = new StreamSender({
      transferId: "t1",
      size: 100,
      initialCredit: 100,
      readChunk: async () => new Uint8Array(10),
    });
    await expect(sender.nextFrame()).rejects.toMatchObject({ code: "ERR_STREAM_SOURCE" });
  });

  it("validates its options", () => {
    const readChunk = async () => new Uint8Array(0);
    const invalid = expect.objectContaining({ code: "ERR_INVALID_OPTION" });
    expect(() => new StreamSender({ transferId: "t", size: -1, readChunk })).toThrow(invalid);
    expect(() => new StreamSender({ transferId: "t", size: 1, chunkSize: 0, readChunk })).toThrow(
      invalid,
    );
  });
});
