import { describe, expect, it } from "vitest";
import { type PayloadBacking, PayloadBuffer } from "./payload-buffer.js";

const chunk = (offset: number, length: number) =>
  Uint8Array.from({ length }, (_, i) => (offset + i) % 251);

/** A backing holding the payload's first bytes, as a kept copy does; `writing` while it takes more. */
function backingOf(bytes: Uint8Array, written: number, writing: boolean) {
  const backing = {
    durableUpTo: written,
    writing,
    reads: 0,
    async read(offset: number, length: number) {
      backing.reads++;
      if (offset + length > backing.durableUpTo) throw new Error("not written yet");
      return bytes.slice(offset, offset + length);
    },
  } satisfies PayloadBacking & { reads: number };
  return backing;
}

describe("PayloadBuffer", () => {
  it("keeps nothing in memory while nothing reads or keeps it", async () => {
    const buffer = new PayloadBuffer(300, { window: 100 });
    await buffer.append(0, chunk(0, 100));
    await buffer.append(100, chunk(100, 100));
    expect(buffer.heldBytes).toBe(0);
    expect(buffer.canReadFromStart()).toBe(false);
  });

  it("drops what every reader is past and holds the writer at the window", async () => {
    const buffer = new PayloadBuffer(1000, { window: 200 });
    const reader = buffer.addReader(0);
    await buffer.append(0, chunk(0, 100));
    await buffer.append(100, chunk(100, 100));
    let thirdWritten = false;
    const third = buffer.append(200, chunk(200, 100)).then(() => {
      thirdWritten = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(thirdWritten).toBe(false);
    expect(await buffer.read(0, 100, reader)).toEqual(chunk(0, 100));
    await third;
    expect(await buffer.read(100, 100, reader)).toEqual(chunk(100, 100));
    expect(buffer.heldBytes).toBe(100);
    await expect(buffer.read(0, 10)).rejects.toMatchObject({ code: "ERR_STREAM_PROTOCOL" });
  });

  it("copies a read into the caller's buffer, across chunks, before the reader moves on", async () => {
    const buffer = new PayloadBuffer(1000, { window: 300 });
    const reader = buffer.addReader(0);
    const into = new Uint8Array(250);
    const pending = buffer.read(0, 250, reader, () => into);
    await buffer.append(0, chunk(0, 100));
    await buffer.append(100, chunk(100, 100));
    await buffer.append(200, chunk(200, 100));
    expect(await pending).toBe(into);
    expect(into).toEqual(chunk(0, 250));
    // The reader is past the first two chunks: they are gone, the copy is not.
    expect(buffer.heldBytes).toBe(100);
    expect(await buffer.read(260, 20, reader, () => new Uint8Array(20))).toEqual(chunk(260, 20));
  });

  it("returns the stored chunk itself for a read of exactly one chunk, a view within one, a copy across", async () => {
    const buffer = new PayloadBuffer(300);
    buffer.addReader(0); // holds every chunk in memory
    const first = chunk(0, 100);
    const second = chunk(100, 100);
    await buffer.append(0, first);
    await buffer.append(100, second);
    let copies = 0;
    const into = (length: number) => {
      copies++;
      return new Uint8Array(length);
    };
    // The very view that was appended: a received frame's payload stays recognisable.
    expect(await buffer.read(100, 100, undefined, into)).toBe(second);
    const inside = await buffer.read(10, 50, undefined, into);
    expect(inside.buffer).toBe(first.buffer);
    expect(inside).toEqual(chunk(10, 50));
    expect(copies).toBe(0);
    expect(await buffer.read(50, 100, undefined, into)).toEqual(chunk(50, 100));
    expect(copies).toBe(1);
  });

  it("refuses out-of-order writes and fails waiting readers", async () => {
    const buffer = new PayloadBuffer(100);
    await expect(buffer.append(10, chunk(10, 5))).rejects.toMatchObject({
      code: "ERR_STREAM_PROTOCOL",
    });
    const waiting = buffer.read(0, 50);
    buffer.fail(new Error("publisher gone"));
    await expect(waiting).rejects.toThrow("publisher gone");
  });

  it("with a backing: memory holds what it has not written; a reader behind it reads from it, holding nothing", async () => {
    const whole = chunk(0, 400);
    const buffer = new PayloadBuffer(400, { window: 200 });
    const backing = backingOf(whole, 0, true);
    buffer.setBacking(backing);
    const slow = buffer.addReader(0); // never reads
    await buffer.append(0, whole.subarray(0, 100));
    await buffer.append(100, whole.subarray(100, 200));
    expect(buffer.heldBytes).toBe(200);
    // The copy catches up: memory lets go though the slow reader is still at 0.
    backing.durableUpTo = 200;
    buffer.backingMoved();
    expect(buffer.heldBytes).toBe(0);
    await buffer.append(200, whole.subarray(200, 300));
    // Bytes 0..300: from the backing up to 200, the rest from memory.
    expect(await buffer.read(50, 250, slow)).toEqual(whole.subarray(50, 300));
    expect(backing.reads).toBe(1);
    backing.durableUpTo = 300;
    backing.writing = false;
    buffer.backingMoved();
    expect(buffer.heldBytes).toBe(0);
  });

  it("resumes from a backing's bytes (start): appends continue there and the prefix is read from it", async () => {
    const whole = chunk(0, 300);
    const buffer = new PayloadBuffer(300, { start: 120 });
    const backing = backingOf(whole, 120, true);
    buffer.setBacking(backing);
    expect(buffer.received).toBe(120);
    expect(buffer.canReadFromStart()).toBe(true);
    const reader = buffer.addReader(0);
    const all = buffer.read(0, 300, reader);
    await buffer.append(120, whole.subarray(120, 300));
    expect(await all).toEqual(whole);
  });

  it("evicts a reader that holds a full window without reading for stallMs; the writer goes on", async () => {
    const buffer = new PayloadBuffer(1000, { window: 100, stallMs: 50 });
    const added = Date.now();
    const stalled = buffer.addReader(0);
    const evictions: string[] = [];
    stalled.onEvicted = (error) => evictions.push(error.code);
    const moving = buffer.addReader(0);
    await buffer.append(0, chunk(0, 100));
    const next = buffer.append(100, chunk(100, 100));
    await buffer.read(0, 100, moving);
    await next;
    // Not before the stalled reader had been still for stallMs.
    expect(Date.now() - added).toBeGreaterThanOrEqual(50);
    expect(evictions).toEqual(["ERR_STREAM_SLOW_READER"]);
    await expect(buffer.read(0, 10, stalled)).rejects.toMatchObject({
      code: "ERR_STREAM_SLOW_READER",
    });
    expect(await buffer.read(100, 100, moving)).toEqual(chunk(100, 100));
  });
});
