import { describe, expect, it } from "vitest";
import { createTaskSlots } from "./task-slots.js";

describe("createTaskSlots", () => {
  it("runs at most `size` tasks at once and hands slots over in order", async () => {
    const slots = createTaskSlots(2);
    const order: number[] = [];
    await slots.acquire();
    await slots.acquire();
    const third = slots.acquire().then(() => order.push(3));
    const fourth = slots.acquire().then(() => order.push(4));
    await Promise.resolve();
    expect(order).toEqual([]);
    expect(slots.active).toBe(2);
    slots.release();
    await third;
    expect(order).toEqual([3]);
    slots.release();
    await fourth;
    expect(order).toEqual([3, 4]);
    slots.release();
    slots.release();
    expect(slots.active).toBe(0);
  });
});
