import { describe, expect, it } from "vitest";
import { ShareMemory } from "./share-memory.js";

const share = (name: string, lastUsed: number) => ({ name, lastUsed });

describe("ShareMemory", () => {
  it("sums what each loaded share holds and reports every change of the total", () => {
    const totals: number[] = [];
    const memory = new ShareMemory<ReturnType<typeof share>>(1000, (total) => totals.push(total));
    const a = share("a", 1);
    const b = share("b", 2);
    memory.set(a, 300);
    memory.set(b, 200);
    memory.set(a, 250); // a key replaced by a smaller value
    memory.set(b, 200); // unchanged: not reported
    memory.delete(a);
    memory.delete(a); // already gone: nothing
    expect(memory.total).toBe(200);
    expect(totals).toEqual([300, 500, 450, 200]);
    expect(memory.fits(800)).toBe(true);
    expect(memory.fits(801)).toBe(false);
  });

  it("evicts idle shares least recently used first, only as many as needed", () => {
    const memory = new ShareMemory<ReturnType<typeof share>>(1000);
    const old = share("old", 10);
    const older = share("older", 5);
    const newest = share("newest", 30);
    const empty = share("empty", 1);
    for (const [s, bytes] of [
      [old, 300],
      [older, 300],
      [newest, 300],
      [empty, 0],
    ] as const) {
      memory.set(s, bytes);
    }
    expect(memory.evictionsFor(100, [newest, old, older])).toEqual([]);
    // 900 + 200 is 100 over: the least recently used one holding anything is enough.
    expect(memory.evictionsFor(200, [newest, old, older, empty])).toEqual([older]);
    expect(memory.evictionsFor(500, [newest, old, older])).toEqual([older, old]);
  });

  it("evicts nothing when even every idle share would not make room", () => {
    const memory = new ShareMemory<ReturnType<typeof share>>(1000);
    const busy = share("busy", 1);
    const idle = share("idle", 2);
    memory.set(busy, 600);
    memory.set(idle, 300);
    expect(memory.evictionsFor(500, [idle])).toBeUndefined();
    expect(memory.evictionsFor(400, [idle])).toEqual([idle]);
    expect(memory.evictionsFor(1001, [idle, busy])).toBeUndefined(); // larger than the budget
  });

  it("has no budget with Infinity", () => {
    const memory = new ShareMemory<ReturnType<typeof share>>(Number.POSITIVE_INFINITY);
    memory.set(share("a", 1), 2 ** 40);
    expect(memory.fits(2 ** 40)).toBe(true);
    expect(memory.evictionsFor(2 ** 40, [])).toEqual([]);
  });
});
