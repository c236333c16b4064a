import { describe, expect, it } from "vitest";
import { closeCodeTable, ShareCloseCode, StandardCloseCode } from "./close-codes.js";
import { errorTable } from "./error-table.js";

describe("close codes", () => {
  it("are distinct within each endpoint, ours in the private range 4000-4999", () => {
    for (const [endpoint, specs] of Object.entries(closeCodeTable)) {
      const codes = Object.values(specs).map((spec) => spec.code);
      expect(new Set(codes).size, endpoint).toBe(codes.length);
      for (const code of codes) {
        const standard = (Object.values(StandardCloseCode) as number[]).includes(code);
        expect(standard || (code >= 4000 && code <= 4999), `${endpoint} ${code}`).toBe(true);
      }
    }
    expect(ShareCloseCode.goingAway).toBe(1001);
  });

  it("every close code of the error table is one an endpoint documents", () => {
    const documented = new Set(
      Object.values(closeCodeTable).flatMap((specs) => Object.values(specs).map((s) => s.code)),
    );
    for (const [code, spec] of Object.entries(errorTable)) {
      const close = (spec as { close?: number }).close;
      if (close !== undefined) expect(documented.has(close), code).toBe(true);
    }
  });
});
