import { afterEach, describe, expect, it, vi } from "vitest";
import { startHeartbeat } from "./heartbeat.js";

afterEach(() => {
  vi.useRealTimers();
});

describe("startHeartbeat", () => {
  it("times out once after interval + grace of silence", () => {
    vi.useFakeTimers();
    const onTimeout = vi.fn();
    startHeartbeat({ intervalMs: 1000, graceMs: 500, checkEveryMs: 100, onTimeout });
    vi.advanceTimersByTime(1400);
    expect(onTimeout).not.toHaveBeenCalled();
    vi.advanceTimersByTime(300);
    expect(onTimeout).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(10_000);
    expect(onTimeout).toHaveBeenCalledTimes(1);
  });

  it("any sign of life pushes the deadline back", () => {
    vi.useFakeTimers();
    const onTimeout = vi.fn();
    const heartbeat = startHeartbeat({
      intervalMs: 1000,
      graceMs: 500,
      checkEveryMs: 100,
      onTimeout,
    });
    for (let i = 0; i < 10; i++) {
      vi.advanceTimersByTime(1000);
      heartbeat.alive();
    }
    expect(onTimeout).not.toHaveBeenCalled();
    heartbeat.stop();
    vi.advanceTimersByTime(10_000);
    expect(onTimeout).not.toHaveBeenCalled();
  });

  it("notices a wall-clock jump (sleep) at the next check, not a full interval later", () => {
    vi.useFakeTimers();
    let clock = 0;
    const onTimeout = vi.fn();
    startHeartbeat({
      intervalMs: 20_000,
      graceMs: 10_000,
      checkEveryMs: 1000,
      onTimeout,
      now: () => clock,
    });
    clock += 60_000; // the machine slept; timers did not run
    vi.advanceTimersByTime(1000);
    expect(onTimeout).toHaveBeenCalledWith(60_000);
  });
});
