// Key encoding shared by every driver: a StoreKey becomes bytes whose plain byte order
// (Buffer.compare, memcmp, LMDB's default comparator, Postgres bytea) is the key order.

import { createError } from "../protocol/errors.js";
import type { RangeOptions, StoreKey } from "./store.js";

/**
 * The longest encoded key accepted. It is lmdb-js's default maximum key size; every driver
 * enforces it so that a key one driver accepts, all accept.
 */
export const maxEncodedKeyBytes = 1978;

/** Ends every encoded segment; it sorts below every content byte. */
const TERMINATOR = 0x00;
/** Starts a two-byte escape: 01 01 stands for 0x00, 01 02 for 0x01. */
const ESCAPE = 0x01;

/** Byte bounds of a scan, `[start, end)`; `end` undefined reaches the end of the keyspace. */
export interface ByteRange {
  /** The first encoded key in the range (inclusive); empty for the start of the keyspace. */
  readonly start: Buffer;
  /** The encoded key the range stops before (exclusive); undefined for no upper bound. */
  readonly end: Buffer | undefined;
}

/**
 * Throws ERR_INVALID_STORE_KEY unless `key` is a non-empty array of non-empty, well-formed
 * strings. Lone surrogates are refused because UTF-8 cannot carry them: two different keys
 * would encode to the same bytes.
 */
export function assertValidStoreKey(key: StoreKey): void {
  if (!Array.isArray(key) || key.length === 0) {
    throw invalidKey(`store: key ${describeKey(key)} must be a non-empty array of strings`);
  }
  assertSegments(key, "key");
}

/**
 * Encodes a key: each segment's UTF-8 bytes, with 0x00 written as 01 01 and 0x01 as 01 02,
 * then a 0x00 terminator. The terminator sorts below any content byte, so a segment sorts
 * before its extensions and a key before its children, and `["a"]` (61 00) is never a byte
 * prefix of `["ab"]` (61 62 00): a prefix scan is a byte-prefix scan.
 */
export function encodeKey(key: StoreKey): Buffer {
  assertValidStoreKey(key);
  const parts = key.map((segment) => Buffer.from(segment, "utf8"));
  let length = 0;
  for (const part of parts) {
    length += part.length + 1;
    for (const byte of part) if (byte <= ESCAPE) length += 1;
  }
  if (length > maxEncodedKeyBytes) {
    throw invalidKey(
      `store: key ${describeKey(key)} is ${length} bytes encoded, more than ${maxEncodedKeyBytes}`,
    );
  }
  const out = Buffer.allocUnsafe(length);
  let at = 0;
  for (const part of parts) {
    for (const byte of part) {
      if (byte <= ESCAPE) {
        out[at++] = ESCAPE;
        out[at++] = byte + 1;
      } else {
        out[at++] = byte;
      }
    }
    out[at++] = TERMINATOR;
  }
  return out;
}

/** Decodes bytes made by `encodeKey`; malformed bytes are ERR_INVALID_STORE_KEY. */
export function decodeKey(bytes: Uint8Array): string[] {
  const segments: string[] = [];
  const current: number[] = [];
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i] as number;
    if (byte === TERMINATOR) {
      segments.push(Buffer.from(current).toString("utf8"));
      current.length = 0;
    } else if (byte === ESCAPE) {
      const next = bytes[++i];
      if (next !== 0x01 && next !== 0x02) throw malformed(bytes);
      current.push(next - 1);
    } else {
      current.push(byte);
    }
  }
  if (current.length > 0 || segments.length === 0) throw malformed(bytes);
  return segments;
}

/**
 * The byte bounds of `range(prefix, options)`: the keys under `prefix` (every key for `[]`),
 * narrowed to `options.start` (inclusive) and `options.end` (exclusive). Bounds that do not lie
 * under the prefix are ERR_INVALID_STORE_KEY.
 */
export function prefixRangeBounds(prefix: StoreKey, options: RangeOptions = {}): ByteRange {
  if (!Array.isArray(prefix)) {
    throw invalidKey(`store: prefix ${describeKey(prefix)} must be an array of strings`);
  }
  assertSegments(prefix, "prefix");
  const base = prefix.length === 0 ? Buffer.alloc(0) : encodeKey(prefix);
  const start = options.start === undefined ? base : boundUnder(prefix, base, options.start);
  const end =
    options.end !== undefined
      ? boundUnder(prefix, base, options.end)
      : prefix.length === 0
        ? undefined
        : successor(base);
  return { start, end };
}

/** The entry limit of a scan: `options.limit`, a non-negative integer, or Infinity by default. */
export function rangeLimit(options: RangeOptions = {}): number {
  const { limit } = options;
  if (limit === undefined) return Number.POSITIVE_INFINITY;
  if (!(Number.isInteger(limit) && limit >= 0) && limit !== Number.POSITIVE_INFINITY) {
    throw createError(
      "ERR_UNEXPECTED",
      `store: range limit ${limit} is not a non-negative integer`,
    );
  }
  return limit;
}

/** True when `encoded` lies within `range`. */
export function inByteRange(encoded: Uint8Array, range: ByteRange): boolean {
  return (
    Buffer.compare(encoded, range.start) >= 0 &&
    (range.end === undefined || Buffer.compare(encoded, range.end) < 0)
  );
}

/** A short rendering of a key (or anything passed as one) for error messages. */
export function describeKey(key: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(key) ?? String(key);
  } catch {
    text = String(key);
  }
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

function assertSegments(key: StoreKey, what: string): void {
  for (const segment of key) {
    if (typeof segment !== "string" || segment.length === 0) {
      throw invalidKey(
        `store: ${what} ${describeKey(key)} has a segment that is not a non-empty string`,
      );
    }
    if (hasLoneSurrogate(segment)) {
      throw invalidKey(
        `store: ${what} ${describeKey(key)} has a segment with a lone surrogate (not valid UTF-16)`,
      );
    }
  }
}

const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function hasLoneSurrogate(text: string): boolean {
  return loneSurrogate.test(text);
}

function boundUnder(prefix: StoreKey, base: Buffer, bound: StoreKey): Buffer {
  const encoded = encodeKey(bound);
  if (encoded.length < base.length || !encoded.subarray(0, base.length).equals(base)) {
    throw invalidKey(
      `store: range bound ${describeKey(bound)} is not under prefix ${describeKey(prefix)}`,
    );
  }
  return encoded;
}

/** The smallest byte string above every string that starts with the encoded key `base`. */
function successor(base: Buffer): Buffer {
  // An encoded key ends with the 0x00 terminator, so raising that byte to 0x01 is enough.
  const next = Buffer.from(base);
  next[next.length - 1] = TERMINATOR + 1;
  return next;
}

function invalidKey(message: string) {
  return createError("ERR_INVALID_STORE_KEY", message);
}

function malformed(bytes: Uint8Array) {
  return invalidKey(`store: encoded key ${Buffer.from(bytes).toString("hex")} is malformed`);
}
