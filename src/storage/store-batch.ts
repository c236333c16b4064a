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

/**
 * Validates, encodes and copies every operation of `ops`, in order. An invalid key is
 * ERR_INVALID_STORE_KEY; an operation that is neither a put of bytes nor a delete is
 * ERR_STORE_WRITE. Either way it throws before the driver applies anything.
 */
export function encodeBatch(ops: readonly StoreOp[]): EncodedOp[] {
  if (!Array.isArray(ops)) {
    throw createError("ERR_STORE_WRITE", `store: write needs an array of operations, got ${ops}`);
  }
  return ops.map((op: StoreOp, index) => {
    const type = (op as { type?: unknown } | null)?.type;
    if (type === "delete") return { key: encodeKey(op.key), value: undefined };
    if (type !== "put") {
      throw createError(
        "ERR_STORE_WRITE",
        `store: operation ${index} has type ${JSON.stringify(type)}, not "put" or "delete"`,
      );
    }
    const key = encodeKey(op.key);
    const value = (op as { value?: unknown }).value;
    if (!(value instanceof Uint8Array)) {
      throw createError(
        "ERR_STORE_WRITE",
        `store: put of key ${describeKey(op.key)} has a value that is not a Uint8Array`,
      );
    }
    return { key, value: Buffer.from(value) };
  });
}
