// The conformance tests of conditional writes (`expect` operations), registered by runStoreTests
// inside each driver's suite.

import { expect, it } from "vitest";
import type { Store } from "../store.js";

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (value: Uint8Array | undefined) =>
  value === undefined ? undefined : new TextDecoder().decode(value);

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
}

/** Registers the tests; `store()` is the suite's fresh store of the running test. */
export function registerExpectTests(store: () => Store): void {
  it("applies a batch whose expectations hold (a value, or no entry), checked before its ops", async () => {
    await store().write([{ type: "put", key: ["seq"], value: bytes("1") }]);
    await store().write([
      { type: "put", key: ["seq"], value: bytes("2") },
      { type: "expect", key: ["seq"], value: bytes("1") },
      { type: "expect", key: ["absent"], value: undefined },
      { type: "put", key: ["item"], value: bytes("x") },
    ]);
    expect(text(await store().get(["seq"]))).toBe("2");
    expect(text(await store().get(["item"]))).toBe("x");
  });

  it("refuses a batch whose expectation fails with ERR_STORE_CONFLICT and applies none of it", async () => {
    await store().write([{ type: "put", key: ["seq"], value: bytes("5") }]);
    const stale = store().write([
      { type: "expect", key: ["seq"], value: bytes("4") },
      { type: "put", key: ["seq"], value: bytes("5") },
      { type: "put", key: ["item"], value: bytes("lost") },
    ]);
    expect(await codeOf(stale)).toBe("ERR_STORE_CONFLICT");
    const present = store().write([
      { type: "expect", key: ["seq"], value: undefined },
      { type: "put", key: ["other"], value: bytes("lost") },
    ]);
    expect(await codeOf(present)).toBe("ERR_STORE_CONFLICT");
    expect(await store().get(["item"])).toBeUndefined();
    expect(await store().get(["other"])).toBeUndefined();
    expect(text(await store().get(["seq"]))).toBe("5");
  });

  it("lets exactly one of several racing writers of the same next value win, the others unharmed", async () => {
    await store().write([{ type: "put", key: ["seq"], value: bytes("0") }]);
    const writers = Array.from({ length: 8 }, (_, i) =>
      store().write([
        { type: "expect", key: ["seq"], value: bytes("0") },
        { type: "put", key: ["seq"], value: bytes("1") },
        { type: "put", key: ["winner"], value: bytes(String(i)) },
      ]),
    );
    // An unconditional write in the same turn is not held up by the conflicts around it.
    const plain = store().write([{ type: "put", key: ["plain"], value: bytes("ok") }]);
    const codes = await Promise.all(writers.map(codeOf));
    await plain;
    expect(codes.filter((code) => code === undefined)).toHaveLength(1);
    expect(codes.filter((code) => code === "ERR_STORE_CONFLICT")).toHaveLength(7);
    expect(text(await store().get(["winner"]))).toBe(String(codes.indexOf(undefined)));
    expect(text(await store().get(["plain"]))).toBe("ok");
  });

  it("sees the writes made before it in call order, unawaited ones included", async () => {
    const first = store().write([{ type: "put", key: ["seq"], value: bytes("1") }]);
    const second = store().write([
      { type: "expect", key: ["seq"], value: bytes("1") },
      { type: "put", key: ["seq"], value: bytes("2") },
    ]);
    await Promise.all([first, second]);
    expect(text(await store().get(["seq"]))).toBe("2");
  });
}
