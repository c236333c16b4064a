import { describe, expect, it } from "vitest";
import { jsonNestsDeeperThan } from "./json-depth.js";

describe("jsonNestsDeeperThan", () => {
  it("counts arrays and objects, not brackets inside strings", () => {
    expect(jsonNestsDeeperThan('{"a":[{"b":1}]}', 3)).toBe(false);
    expect(jsonNestsDeeperThan('{"a":[{"b":[1]}]}', 3)).toBe(true);
    expect(jsonNestsDeeperThan('["[[[[[", "\\"[[[["]', 1)).toBe(false);
    expect(jsonNestsDeeperThan(`${"[".repeat(4000)}${"]".repeat(4000)}`, 256)).toBe(true);
  });

  it("counts depth, not how many containers there are", () => {
    const wide = `[${Array.from({ length: 10_000 }, () => "[1]").join(",")}]`;
    expect(jsonNestsDeeperThan(wide, 2)).toBe(false);
  });
});
