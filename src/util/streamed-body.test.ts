import { describe, expect, it } from "vitest";
import { type BodySink, writeStreamed } from "./streamed-body.js";

/** A sink that needs draining once `highWater` bytes are queued; `drain()` empties it. */
function fakeSink(highWater: number) {
  const writes: Uint8Array[][] = [];
  let queued = 0;
  let closed = false;
  let wake: ((open: boolean) => void) | undefined;
  const sink: BodySink = {
    write(parts) {
      if (closed) return false;
      writes.push([...parts]);
      for (const part of parts) queued += part.byteLength;
      return true;
    },
    needsDrain: () => queued >= highWater,
    drained: () => new Promise((resolve) => (wake = resolve)),
  };
  return {
    sink,
    writes,
    drain() {
      queued = 0;
      wake?.(true);
    },
    close() {
      closed = true;
      wake?.(false);
    },
  };
}

const bytes = (n: number, fill = 1) => new Uint8Array(n).fill(fill);
const tick = () => new Promise((resolve) => setImmediate(resolve));

describe("writeStreamed", () => {
  it("writes batches of whole units and waits for the reader between them", async () => {
    const fake = fakeSink(10);
    const units = [[bytes(4), bytes(4)], [bytes(4)], [bytes(2), bytes(2)], [bytes(1)]];
    const done = writeStreamed(fake.sink, units, 8);
    await tick();
    // 8 bytes (one unit), not yet full: on; 8 more (two units, never split): 16 queued, it waits.
    expect(fake.writes.map((parts) => parts.map((p) => p.byteLength))).toEqual([
      [4, 4],
      [4, 2, 2],
    ]);
    fake.drain();
    await tick();
    expect(await done).toBe(true);
    expect(fake.writes.map((parts) => parts.map((p) => p.byteLength))).toEqual([
      [4, 4],
      [4, 2, 2],
      [1],
    ]);
  });

  it("never writes the same bytes twice, nor copies them", async () => {
    const fake = fakeSink(1 << 30);
    const shared = bytes(100);
    expect(await writeStreamed(fake.sink, [[shared], [shared]], 50)).toBe(true);
    expect(fake.writes.flat()).toEqual([shared, shared]);
    expect(fake.writes.flat()[0]).toBe(shared);
  });

  it("stops, false, when the sink closes while it waits", async () => {
    const fake = fakeSink(1);
    const done = writeStreamed(fake.sink, [[bytes(8)], [bytes(8)], [bytes(8)]], 8);
    await tick();
    fake.close();
    expect(await done).toBe(false);
    expect(fake.writes).toHaveLength(1);
  });

  it("writes nothing for an empty body", async () => {
    const fake = fakeSink(1);
    expect(await writeStreamed(fake.sink, [])).toBe(true);
    expect(fake.writes).toEqual([]);
  });
});
