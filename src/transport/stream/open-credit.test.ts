import { describe, expect, it } from "vitest";
import { SynclineError } from "../../protocol/errors.js";
import { acceptEagerOpen, OpenCredit, takeEager } from "./open-credit.js";

describe("OpenCredit", () => {
  it("takes what fits, refuses what does not, and gets it back on release", () => {
    const credit = new OpenCredit(100);
    expect(credit.tryTake(60)).toBe(true);
    expect(credit.tryTake(41)).toBe(false);
    expect(credit.inUse).toBe(60);
    expect(credit.tryTake(40)).toBe(true);
    credit.release(60);
    expect(credit.inUse).toBe(40);
    expect(credit.tryTake(60)).toBe(true);
  });

  it("offers nothing until a limit is set (a peer that announced none)", () => {
    const credit = new OpenCredit();
    expect(credit.tryTake(1)).toBe(false);
    expect(credit.tryTake(0)).toBe(true);
    credit.setLimit(10);
    expect(credit.tryTake(10)).toBe(true);
  });

  it("refuses a limit that is not a non-negative integer", () => {
    expect(() => new OpenCredit(-1)).toThrow(RangeError);
    expect(() => new OpenCredit(1.5)).toThrow(RangeError);
    expect(() => new OpenCredit().setLimit(Number.NaN)).toThrow(RangeError);
  });
});

describe("takeEager", () => {
  it("sends eagerly only a payload of one chunk within the peer's credit", () => {
    const credit = new OpenCredit(1000);
    expect(takeEager(credit, 2000, 4096)).toBe(false);
    expect(takeEager(credit, 800, 500)).toBe(false);
    expect(credit.inUse).toBe(0);
    expect(takeEager(credit, 800, 4096)).toBe(true);
    expect(takeEager(credit, 800, 4096)).toBe(false);
  });
});

describe("acceptEagerOpen", () => {
  const open = (size: number, chunkSize = 1 << 20) => ({ streamId: 7, size, chunkSize });
  const refusal = (action: () => void) => {
    try {
      action();
    } catch (error) {
      return error as SynclineError;
    }
    throw new Error("not refused");
  };

  it("takes an eager OPEN's bytes from the credit", () => {
    const credit = new OpenCredit(1000);
    acceptEagerOpen(credit, open(600));
    expect(credit.inUse).toBe(600);
  });

  it("refuses ERR_STREAM_PROTOCOL past the credit, naming the stream and the figures", () => {
    const credit = new OpenCredit(1000);
    acceptEagerOpen(credit, open(600));
    const error = refusal(() => acceptEagerOpen(credit, open(500)));
    expect(error).toBeInstanceOf(SynclineError);
    expect(error.code).toBe("ERR_STREAM_PROTOCOL");
    expect(error.message).toContain("stream 7 of 500 bytes exceeds the open credit (600 of 1000");
    expect(credit.inUse).toBe(600);
  });

  it("refuses a payload of more than one chunk", () => {
    const error = refusal(() => acceptEagerOpen(new OpenCredit(1000), open(600, 100)));
    expect(error.code).toBe("ERR_STREAM_PROTOCOL");
    expect(error.message).toContain("more than its chunk size 100");
  });
});
