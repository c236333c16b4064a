import { describe, expect, it } from "vitest";
import { backoffDelay, createBackoff, defaultBackoffOptions } from "./backoff.js";

const almostOne = () => 0.999999;
const zero = () => 0;

describe("backoffDelay", () => {
  it("draws below a ceiling that doubles from 500 ms and caps at 15 s by default", () => {
    const ceilings = [500, 1000, 2000, 4000, 8000, 15_000, 15_000, 15_000];
    ceilings.forEach((ceiling, attempt) => {
      expect(backoffDelay(attempt, {}, () => 1)).toBe(ceiling);
      expect(backoffDelay(attempt, {}, almostOne)).toBeLessThan(ceiling);
      expect(backoffDelay(attempt, {}, almostOne)).toBeGreaterThan(ceiling * 0.9999);
    });
  });

  it("scales the ceiling by random() (full jitter)", () => {
    expect(backoffDelay(2, {}, () => 0.25)).toBe(500);
    expect(backoffDelay(0, {}, zero)).toBe(0);
  });

  it("stays within [0, maxMs] for many attempts and both random extremes", () => {
    for (let attempt = 0; attempt < 2000; attempt++) {
      const high = backoffDelay(attempt, {}, almostOne);
      const low = backoffDelay(attempt, {}, zero);
      expect(high).toBeGreaterThan(0);
      expect(high).toBeLessThanOrEqual(defaultBackoffOptions.maxMs);
      expect(low).toBe(0);
    }
  });

  it("never leaks Infinity or NaN when factor ** attempt overflows", () => {
    expect(10 ** 1000).toBe(Number.POSITIVE_INFINITY); // the overflow the cap must absorb
    expect(backoffDelay(1000, {}, () => 1)).toBe(15_000);
    expect(backoffDelay(1000, { factor: 10 }, () => 1)).toBe(15_000);
    expect(backoffDelay(Number.MAX_SAFE_INTEGER, { factor: 3 }, () => 0.5)).toBe(7500);
    expect(backoffDelay(1000, { initialMs: 0, factor: 10 }, () => 1)).toBe(0);
  });

  it("honours custom options and treats undefined fields as defaults", () => {
    expect(backoffDelay(0, { initialMs: 100 }, () => 1)).toBe(100);
    expect(backoffDelay(3, { initialMs: 100, factor: 3 }, () => 1)).toBe(2700);
    expect(backoffDelay(3, { initialMs: 100, factor: 3, maxMs: 1000 }, () => 1)).toBe(1000);
    expect(backoffDelay(5, { factor: 1 }, () => 1)).toBe(500);
    expect(backoffDelay(0, { initialMs: 20_000 }, () => 1)).toBe(15_000);
    expect(backoffDelay(1, { maxMs: undefined }, () => 1)).toBe(1000);
  });

  it("rejects an attempt that is not a non-negative integer", () => {
    for (const attempt of [-1, 0.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60]) {
      expect(() => backoffDelay(attempt)).toThrow(RangeError);
    }
    expect(() => backoffDelay(-1)).toThrow("backoff: attempt -1 is not a non-negative integer");
  });

  it("rejects invalid options, naming the field and value", () => {
    expect(() => backoffDelay(0, { initialMs: -1 })).toThrow("backoff: initialMs -1");
    expect(() => backoffDelay(0, { maxMs: Number.NaN })).toThrow("backoff: maxMs NaN");
    expect(() => backoffDelay(0, { maxMs: Number.POSITIVE_INFINITY })).toThrow(RangeError);
    expect(() => backoffDelay(0, { factor: 0.5 })).toThrow("backoff: factor 0.5");
  });
});

describe("createBackoff", () => {
  it("grows with each next() and starts over after reset()", () => {
    const backoff = createBackoff({ initialMs: 100, maxMs: 1000 }, () => 1);
    expect(backoff.attempt).toBe(0);
    expect([backoff.next(), backoff.next(), backoff.next(), backoff.next()]).toEqual([
      100, 200, 400, 800,
    ]);
    expect(backoff.next()).toBe(1000);
    expect(backoff.next()).toBe(1000);
    expect(backoff.attempt).toBe(6);
    backoff.reset();
    expect(backoff.attempt).toBe(0);
    expect(backoff.next()).toBe(100);
    expect(backoff.attempt).toBe(1);
  });

  it("uses the injected random source for jitter", () => {
    const values = [0.5, 0.1];
    const backoff = createBackoff({}, () => values.shift() ?? 0);
    expect(backoff.next()).toBe(250);
    expect(backoff.next()).toBe(100);
  });

  it("stays capped after very many failures", () => {
    const backoff = createBackoff({}, almostOne);
    let last = 0;
    for (let i = 0; i < 5000; i++) last = backoff.next();
    expect(Number.isFinite(last)).toBe(true);
    expect(last).toBeLessThanOrEqual(15_000);
    expect(last).toBeGreaterThan(14_999);
  });

  it("validates options when created", () => {
    expect(() => createBackoff({ factor: 0 })).toThrow(RangeError);
  });
});
