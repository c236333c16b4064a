import { describe, expect, it } from "vitest";
import { BodyBudget } from "./body-budget.js";

describe("BodyBudget", () => {
  it("admits bodies while their sum fits, always the only one, and frees a request's bytes once", () => {
    const changes: number[] = [];
    const budget = new BodyBudget(100, (held) => changes.push(held));
    const big = budget.account();
    expect(big.take(150)).toBe(true); // alone, a body over the budget still fits
    const other = budget.account();
    expect(other.take(1)).toBe(false);
    big.release();
    big.release(); // a second release gives back nothing more
    expect(budget.heldBytes).toBe(0);
    expect(other.take(60)).toBe(true);
    expect(other.take(40)).toBe(true);
    expect(budget.account().take(1)).toBe(false);
    expect(changes).toEqual([150, 0, 60, 100]);
  });

  it("never counts a body against its own earlier chunks", () => {
    const budget = new BodyBudget(100);
    const alone = budget.account();
    for (let chunk = 0; chunk < 5; chunk++) expect(alone.take(40)).toBe(true);
    expect(budget.heldBytes).toBe(200);
    expect(budget.account().take(1)).toBe(false);
  });

  it("refuses with ERR_SERVER_BUSY, its figures and a Retry-After", () => {
    const budget = new BodyBudget(10);
    budget.account().take(8);
    const refusal = budget.refusal("share sync");
    expect(refusal.code).toBe("ERR_SERVER_BUSY");
    expect(refusal.status).toBe(503);
    expect(refusal.message).toContain("8 bytes");
    expect((refusal as unknown as { retryAfterSeconds: number }).retryAfterSeconds).toBe(1);
  });
});
