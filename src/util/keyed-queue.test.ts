import { describe, expect, it } from "vitest";
import { KeyedQueue } from "./keyed-queue.js";

describe("KeyedQueue", () => {
  it("runs tasks of one key one after another, even past a failure; other keys run freely", async () => {
    const queue = new KeyedQueue<string>();
    const log: string[] = [];
    let release: () => void = () => {};
    const first = queue.run("a", async () => {
      log.push("a1 start");
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      log.push("a1 end");
      throw new Error("a1 failed");
    });
    const second = queue.run("a", async () => {
      log.push("a2");
      return 2;
    });
    await queue.run("b", async () => log.push("b1"));
    expect(log).toEqual(["a1 start", "b1"]);
    release();
    await expect(first).rejects.toThrow("a1 failed");
    await expect(second).resolves.toBe(2);
    expect(log).toEqual(["a1 start", "b1", "a1 end", "a2"]);
  });
});
