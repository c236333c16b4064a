import { describe, expect, it } from "vitest";
import { OfflineQueue } from "./offline-queue.js";

describe("OfflineQueue", () => {
  it("keeps order and drains everything", () => {
    const queue = new OfflineQueue<string>();
    queue.push("a", 1);
    queue.push("b", 2);
    expect(queue.size).toBe(2);
    expect(queue.bytes).toBe(3);
    expect(queue.drain()).toEqual(["a", "b"]);
    expect(queue.size).toBe(0);
    expect(queue.bytes).toBe(0);
  });

  it("refuses past the count limit and the byte limit, adding nothing", () => {
    const queue = new OfflineQueue<number>({ maxCount: 2, maxBytes: 10 });
    queue.push(1, 4);
    queue.push(2, 4);
    expect(() => queue.push(3, 1)).toThrow(expect.objectContaining({ code: "ERR_QUEUE_FULL" }));
    queue.drain();
    queue.push(4, 8);
    expect(() => queue.push(5, 3)).toThrow(expect.objectContaining({ code: "ERR_QUEUE_FULL" }));
    expect(queue.drain()).toEqual([4]);
  });
});
