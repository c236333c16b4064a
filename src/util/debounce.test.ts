import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createDebounce } from "./debounce.js";

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe("createDebounce", () => {
  it("turns a burst of triggers into one call, wait after the last trigger", () => {
    const fn = vi.fn();
    const debounce = createDebounce(fn, { wait: 100 });
    debounce.trigger();
    vi.advanceTimersByTime(60);
    debounce.trigger();
    vi.advanceTimersByTime(60);
    debounce.trigger();
    expect(debounce.pending).toBe(true);
    vi.advanceTimersByTime(99);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fn).toHaveBeenCalledTimes(1);
    expect(debounce.pending).toBe(false);
    vi.advanceTimersByTime(1000);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it("calls again for a later burst", () => {
    const fn = vi.fn();
    const debounce = createDebounce(fn, { wait: 50 });
    debounce.trigger();
    vi.advanceTimersByTime(50);
    debounce.trigger();
    vi.advanceTimersByTime(50);
    expect(fn).toHaveBeenCalledTimes(2);
  });

  it("without maxWait, a steady stream of triggers postpones the call", () => {
    const fn = vi.fn();
    const debounce = createDebounce(fn, { wait: 100 });
    for (let i = 0; i < 100; i++) {
      debounce.trigger();
      vi.advanceTimersByTime(50);
    }
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(50);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it("with maxWait, calls no later than maxWait after the first trigger of a burst", () => {
    const calls: number[] = [];
    const start = Date.now();
    const debounce = createDebounce(() => calls.push(Date.now() - start), {
      wait: 100,
      maxWait: 300,
    });
    for (let i = 0; i < 20; i++) {
      debounce.trigger();
      vi.advanceTimersByTime(50);
    }
    // Triggers at 0, 50, …, 950 never leave 100 ms of quiet, so each burst ends by maxWait:
    // calls at 300, 600 and 900; the last burst (triggers at 900 and 950) ends at 950 + wait.
    expect(calls).toEqual([300, 600, 900]);
    vi.advanceTimersByTime(1000);
    expect(calls).toEqual([300, 600, 900, 1050]);
  });

  it("with maxWait, a short burst still ends wait after its last trigger", () => {
    const fn = vi.fn();
    const debounce = createDebounce(fn, { wait: 100, maxWait: 1000 });
    debounce.trigger();
    vi.advanceTimersByTime(100);
    expect(fn).toHaveBeenCalledTimes(1);
    // The maxWait timer of the finished burst must not cause a second call.
    vi.advanceTimersByTime(2000);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it("cancel drops the pending call and its maxWait timer", () => {
    const fn = vi.fn();
    const debounce = createDebounce(fn, { wait: 100, maxWait: 200 });
    debounce.trigger();
    vi.advanceTimersByTime(90);
    debounce.cancel();
    expect(debounce.pending).toBe(false);
    vi.advanceTimersByTime(1000);
    expect(fn).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
    debounce.trigger();
    vi.advanceTimersByTime(100);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it("flush runs a pending call now and returns its result", () => {
    let n = 0;
    const debounce = createDebounce(() => ++n, { wait: 100, maxWait: 500 });
    expect(debounce.flush()).toBeUndefined();
    debounce.trigger();
    expect(debounce.flush()).toBe(1);
    expect(debounce.pending).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(1000);
    expect(n).toBe(1);
    expect(debounce.flush()).toBeUndefined();
  });

  it("flush returns the promise of an async fn and throws what fn throws", async () => {
    const debounce = createDebounce(async () => "saved", { wait: 10 });
    debounce.trigger();
    await expect(debounce.flush()).resolves.toBe("saved");

    const failing = createDebounce(
      () => {
        throw new Error("boom");
      },
      { wait: 10 },
    );
    failing.trigger();
    expect(() => failing.flush()).toThrow("boom");
    expect(failing.pending).toBe(false);
  });

  it("a trigger from inside fn starts a new burst", () => {
    let calls = 0;
    const debounce = createDebounce(
      () => {
        calls += 1;
        if (calls === 1) debounce.trigger();
      },
      { wait: 10 },
    );
    debounce.trigger();
    vi.advanceTimersByTime(10);
    expect(calls).toBe(1);
    expect(debounce.pending).toBe(true);
    vi.advanceTimersByTime(10);
    expect(calls).toBe(2);
  });

  it("reports errors of timer-started calls to onError, sync and async", async () => {
    const errors: unknown[] = [];
    const onError = (error: unknown) => errors.push(error);
    const sync = createDebounce(
      () => {
        throw new Error("sync failure");
      },
      { wait: 10, onError },
    );
    const async = createDebounce(() => Promise.reject(new Error("async failure")), {
      wait: 10,
      onError,
    });
    sync.trigger();
    async.trigger();
    await vi.advanceTimersByTimeAsync(10);
    expect(errors.map((error) => (error as Error).message)).toEqual([
      "sync failure",
      "async failure",
    ]);
  });

  it("rejects invalid timings, naming the value", () => {
    expect(() => createDebounce(() => {}, { wait: -1 })).toThrow("debounce: wait -1");
    expect(() => createDebounce(() => {}, { wait: Number.NaN })).toThrow(RangeError);
    expect(() => createDebounce(() => {}, { wait: 1, maxWait: Number.POSITIVE_INFINITY })).toThrow(
      "debounce: maxWait Infinity",
    );
  });
});
