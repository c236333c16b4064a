import { describe, expect, it } from "vitest";
import { KeepBudget, minimumItemCharge } from "./keep-budget.js";

const MiB = 1024 * 1024;
const settings = {
  retainBytes: MiB,
  retainTotalBytes: 4 * MiB,
  spoolBytes: 8 * MiB,
  spoolTotalBytes: 16 * MiB,
};

describe("KeepBudget", () => {
  it("keeps in the store up to its total, then in the spool, then nowhere", () => {
    const budget = new KeepBudget(settings);
    for (let i = 0; i < 4; i++) {
      expect(budget.choose(MiB)).toBe("store");
      budget.reserve(`s${i}`, "store", MiB);
    }
    expect(budget.choose(MiB)).toBe("spool");
    budget.reserve("big", "spool", 8 * MiB);
    budget.reserve("big2", "spool", 8 * MiB);
    expect(budget.choose(MiB)).toBeUndefined();
    expect(budget.choose(9 * MiB)).toBeUndefined();
    expect([budget.total("store"), budget.total("spool")]).toEqual([4 * MiB, 16 * MiB]);
  });

  it("counts tiny items at the minimum charge, and releases each id once", () => {
    const budget = new KeepBudget(settings);
    budget.reserve("a", "store", 0);
    budget.reserve("a", "store", 0);
    expect(budget.total("store")).toBe(minimumItemCharge);
    budget.release("a");
    budget.release("a");
    budget.release("never");
    expect(budget.total("store")).toBe(0);
  });
});
