import { describe, expect, it } from "vitest";
import { pollEvery } from "./poll-loop.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("pollEvery", () => {
  it("never runs a look beside another, however slow one is", async () => {
    let running = 0;
    let most = 0;
    let looks = 0;
    const poll = pollEvery(
      5,
      async () => {
        looks += 1;
        running += 1;
        most = Math.max(most, running);
        await sleep(looks === 2 ? 120 : 10); // the second look is far slower than the interval
        running -= 1;
      },
      (error) => {
        throw error;
      },
    );
    await sleep(300);
    poll.stop();
    expect(most).toBe(1);
    // 300 ms of 5 ms pauses, 10 ms looks and one of 120 ms: a handful, not the 60 ticks a
    // fixed-rate timer would have started.
    expect(looks).toBeGreaterThanOrEqual(3);
    expect(looks).toBeLessThan(20);
  });

  it("reports a failed look and goes on polling", async () => {
    const errors: unknown[] = [];
    let looks = 0;
    const poll = pollEvery(
      5,
      async () => {
        looks += 1;
        if (looks === 1) throw new Error("xclip failed");
      },
      (error) => errors.push(error),
    );
    await expect.poll(() => looks).toBeGreaterThanOrEqual(3);
    poll.stop();
    expect(errors).toEqual([new Error("xclip failed")]);
  });

  it("looks no more once stopped, even when stopped during a look", async () => {
    let looks = 0;
    let release = () => {};
    const poll = pollEvery(
      5,
      () => {
        looks += 1;
        return new Promise<void>((resolve) => {
          release = resolve;
        });
      },
      () => {},
    );
    await expect.poll(() => looks).toBe(1);
    poll.stop();
    release();
    await sleep(50);
    expect(looks).toBe(1);
  });
});
