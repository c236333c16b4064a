import { describe, expect, it } from "vitest";
import { CreditWindow } from "./credit-window.js";

describe("CreditWindow", () => {
  it("grants a full window at start, capped at the payload size, and only once", () => {
    expect(new CreditWindow({ start: 0, size: 10_000, window: 4096 }).initialGrant()).toBe(4096);
    const small = new CreditWindow({ start: 0, size: 1000, window: 4096 });
    expect(small.initialGrant()).toBe(1000);
    expect(small.initialGrant()).toBe(0);
    expect(new CreditWindow({ start: 0, size: 0, window: 4096 }).initialGrant()).toBe(0);
  });

  it("counts from the resume offset", () => {
    const credit = new CreditWindow({ start: 9000, size: 10_000, window: 4096 });
    expect(credit.initialGrant()).toBe(1000);
    expect(credit.granted).toBe(10_000);
    expect(credit.written).toBe(9000);
  });

  it("grants back in batches of at least a quarter of the window", () => {
    const credit = new CreditWindow({ start: 0, size: 100_000, window: 1000 });
    credit.initialGrant();
    const grants: number[] = [];
    for (let i = 0; i < 10; i++) {
      credit.receive(100);
      grants.push(credit.commit(100));
    }
    expect(grants).toEqual([0, 0, 300, 0, 0, 300, 0, 0, 300, 0]);
    expect(credit.available).toBe(900);
  });

  it("grants the last bytes of the payload even below a batch", () => {
    const credit = new CreditWindow({ start: 0, size: 1200, window: 1000 });
    expect(credit.initialGrant()).toBe(1000);
    credit.receive(100);
    expect(credit.commit(100)).toBe(0);
    credit.receive(100);
    expect(credit.commit(100)).toBe(200);
    expect(credit.granted).toBe(1200);
    credit.receive(500);
    expect(credit.commit(500)).toBe(0);
  });

  it("keeps granted − written within the window under any pattern", () => {
    const window = 777;
    const credit = new CreditWindow({ start: 0, size: 50_000, window });
    credit.initialGrant();
    let unwritten = 0;
    let seed = 1;
    const random = () => {
      seed = (seed * 48271) % 2147483647;
      return seed / 2147483647;
    };
    while (credit.written < 50_000) {
      if (credit.available > 0 && random() < 0.6) {
        const length = 1 + Math.floor(random() * credit.available);
        credit.receive(length);
        unwritten += length;
      } else if (unwritten > 0) {
        const length = 1 + Math.floor(random() * unwritten);
        credit.commit(length);
        unwritten -= length;
      }
      expect(credit.granted - credit.written).toBeLessThanOrEqual(window);
      expect(credit.granted).toBeLessThanOrEqual(50_000);
    }
  });

  it("refuses bytes beyond credit and writes beyond what was received", () => {
    const credit = new CreditWindow({ start: 0, size: 100, window: 10 });
    credit.initialGrant();
    expect(() => credit.receive(11)).toThrow(RangeError);
    expect(() => credit.commit(1)).toThrow(RangeError);
  });

  it("validates its options", () => {
    expect(() => new CreditWindow({ start: 0, size: 10, window: 0 })).toThrow(RangeError);
    expect(() => new CreditWindow({ start: 11, size: 10, window: 5 })).toThrow(RangeError);
    expect(() => new CreditWindow({ start: -1, size: 10, window: 5 })).toThrow(RangeError);
  });
});
