import { describe, expect, it } from "vitest";
import { SynclineError } from "./errors.js";
import { readFields, wireFieldLimits } from "./wire-fields.js";

function thrown(action: () => unknown): SynclineError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(SynclineError);
    return error as SynclineError;
  }
  throw new Error("expected a throw");
}

describe("readFields", () => {
  it("reads own fields of plain and null-prototype maps", () => {
    const body = Object.assign(Object.create(null) as object, { n: 3 });
    expect(readFields("X", body, 4400).uint("n")).toBe(3);
    expect(readFields("X", { n: 0 }, 4400).uint("n")).toBe(0);
  });

  it("does not read inherited properties", () => {
    const error = thrown(() => readFields("X", {}, 4400).text("toString", { max: 10 }));
    expect(error.message).toContain("missing");
  });

  it("refuses objects that are not maps", () => {
    for (const value of [new Map([["n", 1]]), new Date(0), /x/, [], undefined]) {
      expect(thrown(() => readFields("X", value, 4400)).code).toBe("ERR_WIRE_MESSAGE");
    }
  });

  it("sets the close code only when given one", () => {
    expect(thrown(() => readFields("X", {}, 4400).bool("b")).closeCode).toBe(4400);
    expect(thrown(() => readFields("X", {}, 1011).bool("b")).closeCode).toBe(1011);
  });

  it("returns Node Buffers as plain Uint8Array views over the same memory", () => {
    const buffer = Buffer.from([1, 2, 3]);
    const bytes = readFields("X", { b: buffer }, 4400).bytes("b", { length: 3 });
    expect(bytes.constructor).toBe(Uint8Array);
    expect(bytes.buffer).toBe(buffer.buffer);
    expect(bytes.byteOffset).toBe(buffer.byteOffset);
  });

  it("names the message, the field and the bad value's kind, not its content", () => {
    const secret = "s".repeat(300);
    const error = thrown(() => readFields("HELLO", { agent: secret }, 4400).uint("agent"));
    expect(error.message).toBe('wire: HELLO field "agent" must be an integer >= 0, got a string');
    const nested = thrown(() =>
      readFields("HELLO", { versions: { min: 1 } }, 4400)
        .map("versions")
        .uint("max"),
    );
    expect(nested.message).toContain('HELLO field "versions" field "max"');
  });

  it("publishes its limits", () => {
    expect(wireFieldLimits).toEqual({ shortText: 256, longText: 4096, key: 8192, code: 64 });
  });
});
