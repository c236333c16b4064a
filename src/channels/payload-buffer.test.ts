import { describe, expect, it } from "vitest";
import { PayloadBuffer } from "./payload-buffer.js";

const chunk = (offset: number, length: number) =>
  Uint8Array.from({ length }, (_, i) => (offset + i) % 251);

describe("PayloadBuffer", () => {
  it("retained: reads any range, across chunks, waiting for bytes not yet written", async () => {
    const buffer = new PayloadBuffer(300, { retained: true });
    const pending = buffer.read(90, 30);
    await buffer.append(0, chunk(0, 100));
    await buffer.append(100, chunk(100, 100));
    expect(await pending).toEqual(chunk(90, 30));
    expect(await buffer.read(0, 100)).toEqual(chunk(0, 100));
    await buffer.append(200, chunk(200, 100));
    expect(await buffer.read(150, 150)).toEqual(chunk(150, 150));
    expect(buffer.heldBytes).toBe(300);
  });

  it("relayed: drops what every reader is past and holds the writer at the window", async () => {
    const buffer = new PayloadBuffer(1000, { retained: false, relayWindow: 200 });
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
    const buffer = new PayloadBuffer(1000, { retained: false, relayWindow: 300 });
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
    const buffer = new PayloadBuffer(300, { retained: true });
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
    const buffer = new PayloadBuffer(100, { retained: true });
    await expect(buffer.append(10, chunk(10, 5))).rejects.toMatchObject({
      code: "ERR_STREAM_PROTOCOL",
    });
    const waiting = buffer.read(0, 50);
    buffer.fail(new Error("publisher gone"));
    await expect(waiting).rejects.toThrow("publisher gone");
  });
});
