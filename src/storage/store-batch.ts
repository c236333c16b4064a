// Batch preparation shared by the drivers: validates a whole batch before any of it applies,
// encodes its keys and copies its values, so a caller mutating its buffers later changes nothing.

import { createError } from "../protocol/errors.js";
import type { StoreOp } from "./store.js";
import { describeKey, encodeKey } from "./store-key.js";

/** One operation of a prepared batch: an encoded key and a private copy of the value. */
export interface EncodedOp {
  /** The key, encoded by `encodeKey`. */
  readonly key: Buffer;
  /** The value to put (a copy), or undefined to delete the key. */
  readonly value: Buffer | undefined;
}

/** A condition of a prepared batch: the key must hold exactly `value` (undefined: absent). */
export interface EncodedExpect {
  readonly key: Buffer;
  readonly value: Buffer | undefined;
  /** The key as given, for the conflict's message. */
  readonly shown: string;
}

/** A prepared batch: its changes in order, and its conditions. */
export interface EncodedBatch {
  readonly ops: EncodedOp[];
  readonly expects: EncodedExpect[];
}

/**
 * Validates, encodes and copies every operation of `ops`, in order; `expect` operations become
 * the batch's conditions. An invalid key is ERR_INVALID_STORE_KEY; an operation that is none of
 * put, delete or expect of bytes is ERR_STORE_WRITE. Either way it throws before the driver
 * applies anything.
 */
export function encodeBatch(ops: readonly StoreOp[]): EncodedBatch {
  if (!Array.isArray(ops)) {
    throw createError("ERR_STORE_WRITE", `store: write needs an array of operations, got ${ops}`);
  }
  const encoded: EncodedOp[] = [];
  const expects: EncodedExpect[] = [];
  ops.forEach((op: StoreOp, index) => {
    const type = (op as { type?: unknown } | null)?.type;
    if (type === "delete") {
      encoded.push({ key: encodeKey(op.key), value: undefined });
      return;
    }
    if (type !== "put" && type !== "expect") {
      throw createError(
        "ERR_STORE_WRITE",
        `store: operation ${index} has type ${JSON.stringify(type)}, not "put", "delete" or "expect"`,
      );
    }
    const key = encodeKey(op.key);
    const value = (op as { value?: unknown }).value;
    if (type === "expect" && value === undefined) {
      expects.push({ key, value: undefined, shown: describeKey(op.key) });
      return;
    }
    if (!(value instanceof Uint8Array)) {
      throw createError(
        "ERR_STORE_WRITE",
        `store: ${type} of key ${describeKey(op.key)} has a value that is not a Uint8Array`,
      );
    }
    if (type === "expect")
      expects.push({ key, value: Buffer.from(value), shown: describeKey(op.key) });
    else encoded.push({ key, value: Buffer.from(value) });
  });
  return { ops: encoded, expects };
}

/** True when `current` (undefined: absent) is what `expect` asks for. */
export function expectationHolds(expect: EncodedExpect, current: Uint8Array | undefined): boolean {
  if (expect.value === undefined || current === undefined) return expect.value === current;
  return expect.value.equals(current);
}

/** The error of a batch whose condition on `expect.key` did not hold. */
export function conflictError(expect: EncodedExpect, current: Uint8Array | undefined): Error {
  const found = current === undefined ? "no entry" : `${current.byteLength} bytes that differ`;
  const wanted = expect.value === undefined ? "no entry" : `${expect.value.byteLength} bytes`;
  return createError(
    "ERR_STORE_CONFLICT",
    `store: write refused: key ${expect.shown} was expected to hold ${wanted} but holds ${found} (another writer changed it first); nothing of the batch was applied`,
  );
}
