import { describe, expect, it } from "vitest";
import { SynclineError } from "./errors.js";
import {
  checkChosenWireVersion,
  negotiateWireVersion,
  supportedWireVersions,
  type WireVersionRange,
} from "./wire-version.js";

function expectVersionError(action: () => unknown): void {
  let caught: unknown;
  try {
    action();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(SynclineError);
  expect((caught as SynclineError).code).toBe("ERR_WIRE_VERSION");
  expect((caught as SynclineError).closeCode).toBe(4406);
}

describe("negotiateWireVersion", () => {
  it("this build speaks exactly v1", () => {
    expect(supportedWireVersions).toEqual({ min: 1, max: 1 });
    expect(negotiateWireVersion({ min: 1, max: 1 })).toBe(1);
  });

  it("picks the highest version in both ranges", () => {
    expect(negotiateWireVersion({ min: 1, max: 5 }, { min: 2, max: 3 })).toBe(3);
    expect(negotiateWireVersion({ min: 2, max: 3 }, { min: 1, max: 5 })).toBe(3);
    expect(negotiateWireVersion({ min: 1, max: 2 }, { min: 2, max: 4 })).toBe(2);
    expect(negotiateWireVersion({ min: 4, max: 4 }, { min: 1, max: 4 })).toBe(4);
  });

  it("throws ERR_WIRE_VERSION naming both ranges when they do not overlap", () => {
    expectVersionError(() => negotiateWireVersion({ min: 2, max: 3 }));
    expectVersionError(() => negotiateWireVersion({ min: 1, max: 1 }, { min: 2, max: 2 }));
    expect(() => negotiateWireVersion({ min: 2, max: 3 })).toThrow(
      /offered 2\.\.3.*supported 1\.\.1/,
    );
  });

  it("refuses an offered range that is not a range of positive integers", () => {
    const bad: WireVersionRange[] = [
      { min: 2, max: 1 },
      { min: 0, max: 1 },
      { min: -1, max: 1 },
      { min: 1, max: 1.5 },
      { min: Number.NaN, max: 1 },
      { min: 1, max: Number.POSITIVE_INFINITY },
      { min: "1", max: 1 } as unknown as WireVersionRange,
    ];
    for (const offered of bad) expectVersionError(() => negotiateWireVersion(offered));
  });
});

describe("checkChosenWireVersion", () => {
  it("accepts a version inside the offered range", () => {
    expect(checkChosenWireVersion(1, { min: 1, max: 1 })).toBe(1);
    expect(checkChosenWireVersion(2, { min: 1, max: 3 })).toBe(2);
  });

  it("refuses a version outside it, or not an integer", () => {
    for (const version of [0, 4, 1.5, Number.NaN]) {
      expectVersionError(() => checkChosenWireVersion(version, { min: 1, max: 3 }));
    }
  });
});
