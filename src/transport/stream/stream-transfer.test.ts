// StreamSender and StreamReceiver together, through a simulated channel that delivers DATA/END
// one way and CREDIT/ACK the other in a seeded random interleaving, with an asynchronous sink.

import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { StreamReceiver } from "./stream-receiver.js";
import { type SenderFrame, StreamSender } from "./stream-sender.js";

const MiB = 1024 * 1024;
const sha256 = (bytes: Uint8Array) => new Uint8Array(createHash("sha256").update(bytes).digest());

/** A seeded PRNG (mulberry32) so a failing interleaving can be replayed. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The receiving end's storage: a buffer, with every write recorded. */
class Sink {
  readonly bytes: Uint8Array;
  readonly writes: Array<[offset: number, length: number]> = [];
  constructor(size: number) {
    this.bytes = new Uint8Array(size);
  }
  readonly write = async (offset: number, bytes: Uint8Array) => {
    await tick(); // an asynchronous sink, as a file would be
    this.writes.push([offset, bytes.length]);
    this.bytes.set(bytes, offset);
  };
  readonly read = async (offset: number, length: number) =>
    this.bytes.slice(offset, offset + length);
}

/** What one channel saw: the bytes sent as DATA and the invariants checked along the way. */
interface ChannelReport {
  outcome: "acked" | "cut";
  sentRanges: Array<[offset: number, length: number]>;
  maxCreditUsed: number;
}

/**
 * Runs one stream until ACK or until the receiver holds `cutAt` bytes (then frames in flight are
 * lost, as on a dropped connection). Checks at every step that the sender never sends beyond the
 * credit delivered to it and that the receiver never has more than a window granted and unwritten.
 */
async function runChannel(
  sender: StreamSender,
  receiver: StreamReceiver,
  options: { window: number; seed: number; cutAt?: number },
): Promise<ChannelReport> {
  const random = seeded(options.seed);
  const toReceiver: SenderFrame[] = [];
  const toSender: Array<{ credit: number } | { ack: Uint8Array }> = [];
  const report: ChannelReport = { outcome: "cut", sentRanges: [], maxCreditUsed: 0 };
  const start = receiver.offset;
  // RESUME travels before the first CREDIT.
  if (start > 0) sender.resumeFrom(start);
  let delivered = receiver.initialGrant();
  let issued = delivered;
  if (delivered > 0) sender.grant(delivered); // no CREDIT frame for 0 bytes
  let sent = 0;
  let failure: unknown;
  for (let step = 0; step < 1_000_000; step++) {
    if (failure) throw failure;
    if (options.cutAt !== undefined && receiver.offset >= options.cutAt) return report;
    const choice = random();
    if (choice < 0.45) {
      const message = toSender.shift();
      if (message && "credit" in message) {
        sender.grant(message.credit);
        delivered += message.credit;
      } else if (message) {
        sender.onAck(message.ack);
        return { ...report, outcome: "acked" };
      }
      const frame = await sender.nextFrame();
      if (frame?.kind === "data") {
        sent += frame.bytes.length;
        report.sentRanges.push([frame.offset, frame.bytes.length]);
      }
      if (frame) toReceiver.push(frame);
      expect(sent).toBeLessThanOrEqual(delivered);
      report.maxCreditUsed = Math.max(report.maxCreditUsed, sent);
    } else if (choice < 0.9) {
      const frame = toReceiver.shift();
      if (frame?.kind === "data") {
        // Like an I/O layer, do not await the write before taking the next frame.
        receiver.onData(frame.bytes, frame.fin).then(
          (credit) => {
            issued += credit;
            if (credit > 0) toSender.push({ credit });
          },
          (error) => {
            failure = error;
          },
        );
      } else if (frame) {
        receiver.onEnd(frame.size, frame.sha256).then(
          (ack) => toSender.push({ ack }),
          (error) => {
            failure = error;
          },
        );
      }
    } else {
      await tick();
    }
    expect(issued - (receiver.offset - start)).toBeLessThanOrEqual(options.window);
    expect(receiver.credit).toBeLessThanOrEqual(options.window);
    // Bytes the receiver holds in memory (accepted, not yet written) stay within the window too.
    expect(receiver.received - receiver.offset).toBeLessThanOrEqual(options.window);
  }
  throw new Error("simulated channel: no progress (deadlock)");
}

function makeSender(payload: Uint8Array, chunkSize?: number) {
  const reads: Array<[number, number]> = [];
  const sender = new StreamSender({
    transferId: "t1",
    size: payload.length,
    ...(chunkSize === undefined ? {} : { chunkSize }),
    readChunk: async (offset, length) => {
      reads.push([offset, length]);
      return payload.subarray(offset, offset + length);
    },
  });
  return { sender, reads };
}

function makeReceiver(sink: Sink, window: number, initialOffset = 0) {
  return new StreamReceiver({
    transferId: "t1",
    size: sink.bytes.length,
    window,
    maxSize: 5 * MiB + 65_536,
    writeChunk: sink.write,
    initialOffset,
    readHeld: sink.read,
  });
}

/** Asserts `ranges` cover [from, to) exactly once, in order. */
function expectPartition(ranges: Array<[number, number]>, from: number, to: number): void {
  let at = from;
  for (const [offset, length] of ranges) {
    expect(offset).toBe(at);
    at += length;
  }
  expect(at).toBe(to);
}

function expectMonotonicTo(values: number[], end: number): void {
  for (let i = 1; i < values.length; i++) {
    expect(values[i]).toBeGreaterThan(values[i - 1] as number);
  }
  expect(values.at(-1)).toBe(end);
}

describe("stream transfer (sender → simulated channel → receiver)", () => {
  const cases = [
    { name: "5 MiB, 64 KiB chunks, 1 MiB window", size: 5 * MiB, chunk: 65_536, window: MiB },
    { name: "a size that is no multiple of the chunk", size: 5 * MiB - 12_345, window: MiB },
    { name: "a window that is no multiple of the chunk", size: 777_777, window: 100_000 },
    { name: "a window smaller than one chunk", size: 200_001, window: 30_000 },
  ];
  for (const [index, { name, size, chunk, window }] of cases.entries()) {
    it(`delivers identical bytes and hash: ${name}`, async () => {
      const payload = randomBytes(size);
      const sink = new Sink(size);
      const { sender } = makeSender(payload, chunk);
      const receiver = makeReceiver(sink, window);
      const sent: number[] = [];
      const received: number[] = [];
      const totals = new Set<number>();
      sender.on("progress", (bytes, total) => {
        sent.push(bytes);
        totals.add(total);
      });
      receiver.on("progress", (bytes, total) => {
        received.push(bytes);
        totals.add(total);
      });

      const report = await runChannel(sender, receiver, { window, seed: index + 1 });

      expect(report.outcome).toBe("acked");
      expect(sender.state).toBe("acked");
      expect(receiver.state).toBe("verified");
      expect(Buffer.from(sink.bytes).equals(payload)).toBe(true);
      expect(sha256(sink.bytes)).toEqual(sha256(payload));
      expectPartition(report.sentRanges, 0, size);
      expectPartition(sink.writes, 0, size);
      expect(Math.max(...report.sentRanges.map(([, length]) => length))).toBeLessThanOrEqual(
        chunk ?? 65_536,
      );
      expectMonotonicTo(sent, size);
      expectMonotonicTo(received, size);
      expect([...totals]).toEqual([size]);
    });
  }

  it("transfers an empty payload with END and ACK only", async () => {
    const sink = new Sink(0);
    const { sender } = makeSender(new Uint8Array(0));
    const receiver = makeReceiver(sink, MiB);
    const report = await runChannel(sender, receiver, { window: MiB, seed: 9 });
    expect(report.outcome).toBe("acked");
    expect(report.sentRanges).toEqual([]);
  });

  it("resumes after a cut from the receiver's offset without sending any held byte again", async () => {
    const size = 5 * MiB;
    const payload = randomBytes(size);
    const sink = new Sink(size);

    const first = makeSender(payload);
    const receiver1 = makeReceiver(sink, MiB);
    const cut = await runChannel(first.sender, receiver1, {
      window: MiB,
      seed: 42,
      cutAt: 2 * MiB + 1,
    });
    expect(cut.outcome).toBe("cut");
    // The connection is gone: let writes already handed to the sink finish, then reconnect.
    for (let i = 0; i < 50; i++) await tick();
    receiver1.cancel("connection lost");
    const held = receiver1.offset;
    expect(held).toBeGreaterThan(2 * MiB);
    expect(held).toBeLessThan(size);

    const second = makeSender(payload);
    const receiver2 = makeReceiver(sink, MiB, held);
    const resumed = await runChannel(second.sender, receiver2, { window: MiB, seed: 43 });

    expect(resumed.outcome).toBe("acked");
    expect(Buffer.from(sink.bytes).equals(payload)).toBe(true);
    // Count bytes: the new sender sent exactly what the receiver lacked, from its offset on.
    expectPartition(resumed.sentRanges, held, size);
    const resentBytes = resumed.sentRanges.reduce((sum, [, length]) => sum + length, 0);
    expect(resentBytes).toBe(size - held);
    // Every byte was written to the sink once, across both attempts.
    expectPartition(sink.writes, 0, size);
    // The new sender read the prefix to hash it, in bounded pieces, but sent none of it.
    expect(Math.max(...second.reads.map(([, length]) => length))).toBeLessThanOrEqual(65_536);
    expect(
      second.reads.filter(([offset]) => offset < held).reduce((sum, [, length]) => sum + length, 0),
    ).toBe(held);
  });

  it("fails the transfer with ERR_STREAM_INTEGRITY when the payload changes under the sender", async () => {
    const size = 300_000;
    const payload = randomBytes(size);
    const sink = new Sink(size);
    // A source whose bytes differ on a second read: a resumed sender hashes a different prefix.
    const first = makeSender(payload);
    const receiver1 = makeReceiver(sink, 100_000);
    await runChannel(first.sender, receiver1, { window: 100_000, seed: 5, cutAt: 100_000 });
    for (let i = 0; i < 50; i++) await tick();
    const changed = Buffer.from(payload);
    changed[0] = (changed[0] ?? 0) ^ 0xff;
    const second = makeSender(changed);
    const receiver2 = makeReceiver(sink, 100_000, receiver1.offset);
    await expect(
      runChannel(second.sender, receiver2, { window: 100_000, seed: 6 }),
    ).rejects.toMatchObject({ code: "ERR_STREAM_INTEGRITY" });
  });
});
