import { describe, expect, it } from "vitest";
import { TokenBuckets } from "./token-bucket.js";

describe("TokenBuckets", () => {
  it("allows a burst, then one per refill interval, per key", () => {
    let now = 0;
    const buckets = new TokenBuckets({ burst: 3, perMinute: 60, now: () => now });
    expect([buckets.take("a"), buckets.take("a"), buckets.take("a")]).toEqual([0, 0, 0]);
    expect(buckets.take("a")).toBe(1000);
    expect(buckets.take("b")).toBe(0);
    now = 400;
    expect(buckets.waitFor("a")).toBe(600);
    now = 1000;
    expect(buckets.take("a")).toBe(0);
    expect(buckets.take("a")).toBe(1000);
  });

  it("spends a token after the fact, never below zero", () => {
    let now = 0;
    const buckets = new TokenBuckets({ burst: 2, perMinute: 6, now: () => now });
    for (let i = 0; i < 5; i++) buckets.spend("x");
    expect(buckets.waitFor("x")).toBe(10_000);
    now = 10_000;
    expect(buckets.waitFor("x")).toBe(0);
  });

  it("forgets full buckets, so memory follows the active keys", () => {
    let now = 0;
    const buckets = new TokenBuckets({ burst: 1, perMinute: 60_000, now: () => now });
    for (let i = 0; i < 1500; i++) buckets.spend(`k${i}`);
    expect(buckets.size).toBe(1500);
    now = 20_000;
    buckets.spend("last");
    expect(buckets.size).toBe(1);
  });

  it("refuses a bucket that could never hold a token", () => {
    expect(() => new TokenBuckets({ burst: 0, perMinute: 1 })).toThrow(RangeError);
  });
});
