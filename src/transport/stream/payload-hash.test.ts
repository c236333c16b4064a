import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { PayloadHash, sameBytes } from "./payload-hash.js";
import type { ReadBytes } from "./payload-source.js";

const sha256 = (bytes: Uint8Array) => new Uint8Array(createHash("sha256").update(bytes).digest());

function reader(payload: Uint8Array, lengths: number[] = []): ReadBytes {
  return async (offset, length) => {
    lengths.push(length);
    return payload.subarray(offset, offset + length);
  };
}

describe("PayloadHash", () => {
  it("hashes bytes fed in order to the SHA-256 of the whole", () => {
    const payload = randomBytes(1000);
    const hash = new PayloadHash();
    hash.update(0, payload.subarray(0, 300));
    hash.update(300, payload.subarray(300));
    expect(hash.offset).toBe(1000);
    expect(hash.digest()).toEqual(sha256(payload));
    expect(hash.digest()).toEqual(sha256(payload));
  });

  it("skips bytes it has hashed already (re-sent or re-read ranges)", () => {
    const payload = randomBytes(100);
    const hash = new PayloadHash();
    hash.update(0, payload.subarray(0, 60));
    hash.update(20, payload.subarray(20, 40));
    hash.update(40, payload.subarray(40, 100));
    expect(hash.digest()).toEqual(sha256(payload));
  });

  it("refuses a gap, since SHA-256 cannot skip ahead", () => {
    const hash = new PayloadHash();
    expect(() => hash.update(5, new Uint8Array(3))).toThrow(
      expect.objectContaining({ code: "ERR_UNEXPECTED" }),
    );
  });

  it("is the empty hash for an empty payload", () => {
    expect(new PayloadHash().digest()).toEqual(sha256(new Uint8Array(0)));
  });

  it("catches up over a prefix in bounded reads", async () => {
    const payload = randomBytes(10_000);
    const lengths: number[] = [];
    const hash = new PayloadHash();
    await hash.catchUp(7000, reader(payload, lengths), "test", 1024);
    expect(hash.offset).toBe(7000);
    expect(Math.max(...lengths)).toBe(1024);
    expect(lengths.reduce((a, b) => a + b, 0)).toBe(7000);
    hash.update(7000, payload.subarray(7000));
    expect(hash.digest()).toEqual(sha256(payload));
  });

  it("stops catching up when asked", async () => {
    const hash = new PayloadHash();
    let reads = 0;
    const read: ReadBytes = async (_offset, length) => {
      reads++;
      return new Uint8Array(length);
    };
    await hash.catchUp(10_000, read, "test", 1000, () => reads >= 3);
    expect(hash.offset).toBe(3000);
  });

  it("fails with ERR_STREAM_SOURCE when the source returns a short read", async () => {
    const hash = new PayloadHash();
    const short: ReadBytes = async (_offset, length) => new Uint8Array(length - 1);
    await expect(hash.catchUp(100, short, "stream t: held bytes")).rejects.toMatchObject({
      code: "ERR_STREAM_SOURCE",
    });
  });
});

describe("sameBytes", () => {
  it("compares contents and lengths", () => {
    expect(sameBytes(Uint8Array.of(1, 2), Uint8Array.of(1, 2))).toBe(true);
    expect(sameBytes(Uint8Array.of(1, 2), Uint8Array.of(1, 3))).toBe(false);
    expect(sameBytes(Uint8Array.of(1, 2), Uint8Array.of(1))).toBe(false);
  });
});
