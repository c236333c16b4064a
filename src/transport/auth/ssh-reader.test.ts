import { describe, expect, it } from "vitest";
import { createSshReader } from "./ssh-reader.js";
import { sshString, sshStrings, sshU32 } from "./ssh-string.js";

const fail = (reason: string) => new Error(`test: ${reason}`);

describe("ssh strings", () => {
  it("round-trip text, bytes and u32s", () => {
    const bytes = Buffer.concat([sshStrings("ab", Uint8Array.from([1, 2, 3])), sshU32(7)]);
    expect([...bytes.subarray(0, 6)]).toEqual([0, 0, 0, 2, 0x61, 0x62]);
    const reader = createSshReader(bytes, fail);
    expect(reader.readText()).toBe("ab");
    expect([...reader.readString()]).toEqual([1, 2, 3]);
    expect(reader.readU32()).toBe(7);
    reader.end();
  });

  it("reports truncation and trailing bytes through the caller's error", () => {
    expect(() => createSshReader(sshString("abc").subarray(0, 5), fail).readString()).toThrow(
      /^test: truncated/,
    );
    expect(() => createSshReader(Uint8Array.from([0, 0, 0]), fail).readU32()).toThrow(/truncated/);
    const reader = createSshReader(Buffer.concat([sshString("a"), Buffer.from([9])]), fail);
    reader.readString();
    expect(() => reader.end()).toThrow(/1 unexpected trailing bytes/);
  });

  it("does not trust a huge declared length", () => {
    expect(() => createSshReader(sshU32(0xffffffff), fail).readString()).toThrow(/truncated/);
  });
});
