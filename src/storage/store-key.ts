// Key encoding shared by the drivers: a StoreKey becomes bytes whose plain byte order is the
// key order, so every driver can use its native byte-ordered index and prefix scans.

import { createError } from "../protocol/errors.js";
import type { RangeOptions, StoreKey } from "./store.js";

/** The longest encoded key accepted: LMDB's default limit, enforced for every driver alike. */
export const maxEncodedKeyBytes = 1978;

const TERMINATOR = 0x00;
const ESCAPE = 0x01;

/**
 * Encodes a key: each segment's UTF-8 bytes, with 0x00 → 01 01 and 0x01 → 01 02, then a 0x00
 * terminator. The terminator sorts below every content byte, so a key sorts before its
 * extensions, and `["a"]` (61 00) is never a byte prefix of `["ab"]` (61 62 00).
 */
export function encodeKey(key: StoreKey): Buffer {
  assertValidKey(key);
  const bytes: number[] = [];
  for (const segment of key) {
    for (const byte of Buffer.from(segment, "utf8")) {
      if (byte === TERMINATOR) bytes.push(ESCAPE, 0x01);
      else if (byte === ESCAPE) bytes.push(ESCAPE, 0x02);
      else bytes.push(byte);
    }
    bytes.push(TERMINATOR);
  }
  if (bytes.length > maxEncodedKeyBytes) {
    throw createError(
      "ERR_INVALID_STORE_KEY",
      `store: key ${describeKey(key)} is ${bytes.length} bytes encoded, more than ${maxEncodedKeyBytes}`,
    );
  }
  return Buffer.from(bytes);
}

/** Decodes bytes made by `encodeKey`. */
export function decodeKey(bytes: Uint8Array): string[] {
  const segments: string[] = [];
  let current: number[] = [];
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i] as number;
    if (byte === TERMINATOR) {
      segments.push(Buffer.from(current).toString("utf8"));
      current = [];
    } else if (byte === ESCAPE) {
      i += 1;
      current.push(bytes[i] === 0x01 ? TERMINATOR : ESCAPE);
    } else {
      current.push(byte);
    }
  }
  return segments;
}

/** Throws ERR_INVALID_STORE_KEY unless `key` is a non-empty array of non-empty strings. */
export function assertValidKey(key: StoreKey): void {
  if (!Array.isArray(key) || key.length === 0) {
    throw createError(
      "ERR_INVALID_STORE_KEY",
      `store: key ${describeKey(key)} must be a non-empty array`,
    );
  }
  assertSegments(key);
}

function assertSegments(key: StoreKey): void {
  for (const segment of key) {
    if (typeof segment !== "string" || segment.length === 0) {
      throw createError(
        "ERR_INVALID_STORE_KEY",
        `store: key ${describeKey(key)} has a segment that is not a non-empty string`,
      );
    }
  }
}

/** Byte bounds of a scan: `[lower, upper)`; `upper` undefined = to the end of the keyspace. */
export interface ByteRange {
  readonly lower: Buffer;
  readonly upper: Buffer | undefined;
}

/**
 * The bytes a range scan covers: the keys under `prefix` (every key for `[]`), narrowed by
 * `options.start` (inclusive) and `options.end` (exclusive), which must lie under the prefix.
 */
export function rangeBounds(prefix: StoreKey, options: RangeOptions = {}): ByteRange {
  if (!Array.isArray(prefix)) {
    throw createError(
      "ERR_INVALID_STORE_KEY",
      `store: prefix ${describeKey(prefix)} must be an array`,
    );
  }
  assertSegments(prefix);
  const base = prefix.length === 0 ? Buffer.alloc(0) : encodeKey(prefix);
  let lower = base;
  let upper = prefix.length === 0 ? undefined : successor(base);
  if (options.start !== undefined) lower = boundUnder(prefix, base, options.start, "start");
  if (options.end !== undefined) upper = boundUnder(prefix, base, options.end, "end");
  return { lower, upper };
}

/** True when `encoded` lies within `range`. */
export function inRange(encoded: Buffer, range: ByteRange): boolean {
  return (
    Buffer.compare(encoded, range.lower) >= 0 &&
    (range.upper === undefined || Buffer.compare(encoded, range.upper) < 0)
  );
}

/** A short, safe rendering of a key for error messages. */
export function describeKey(key: unknown): string {
  const text = JSON.stringify(key) ?? String(key);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

function boundUnder(prefix: StoreKey, base: Buffer, bound: StoreKey, name: string): Buffer {
  const encoded = encodeKey(bound);
  if (!encoded.subarray(0, base.length).equals(base)) {
    throw createError(
      "ERR_INVALID_STORE_KEY",
      `store: range ${name} ${describeKey(bound)} is not under prefix ${describeKey(prefix)}`,
    );
  }
  return encoded;
}

/** The smallest byte string greater than every string that starts with `prefix`. */
function successor(prefix: Buffer): Buffer {
  // An encoded prefix ends with the 0x00 terminator, so bumping it to 0x01 is enough.
  const next = Buffer.from(prefix);
  next[next.length - 1] = (next[next.length - 1] as number) + 1;
  return next;
}
