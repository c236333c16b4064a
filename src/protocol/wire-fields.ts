// Typed, bounded reads of the fields of a wire message body (a decoded CBOR map), so the rest of
// the code only ever sees well-formed messages; each failure names the frame type and the field.

import { createError, type SynclineError } from "./errors.js";

/** Bounds on message fields (string lengths in UTF-16 code units, byte lengths in bytes). */
export const wireFieldLimits = {
  /** Identifier-like strings: channels, ids, agent, origin. */
  shortText: 256,
  /** Free text: error messages, file names. */
  longText: 4096,
  /** Public keys (OpenSSH text) and signatures (SSHSIG bytes). */
  key: 8192,
  /** Error and cancel codes: `ERR_` then upper-case letters, digits and `_`. */
  code: 64,
} as const;

/** A message body as decoded from CBOR, or a message about to be encoded. */
export type WireBody = Readonly<Record<string, unknown>>;

/** Bounds of a text field. */
export interface TextBounds {
  /** Fewest characters. Default 0. */
  readonly min?: number;
  /** Most characters. */
  readonly max: number;
  /** A pattern the whole string must match. */
  readonly pattern?: RegExp;
}

/** Bounds of a byte-string field: an exact length, or `min` (default 0) to `max` bytes. */
export type ByteBounds =
  | { readonly length: number }
  | { readonly min?: number; readonly max: number };

/** Reads checked fields of one body; every method throws ERR_WIRE_MESSAGE for a bad field. */
export class FieldReader {
  readonly #label: string;
  readonly #body: WireBody;
  readonly #closeCode: number;

  /** Prefer `readFields`; this checks that `value` is a map the same way. */
  constructor(label: string, value: unknown, closeCode: number) {
    this.#label = label;
    this.#closeCode = closeCode;
    if (!isPlainMap(value))
      throw this.#fail(`${label} body must be a map, got ${describeValue(value)}`);
    this.#body = value;
  }

  /** A non-negative safe integer >= `min` (integral floats are accepted). */
  uint(name: string, min = 0): number {
    const raw = this.#field(name);
    if (typeof raw !== "number" || !Number.isSafeInteger(raw) || raw < min) {
      throw this.#wrong(name, `an integer >= ${min}`, describeValue(raw));
    }
    return raw;
  }

  /** Like `uint`, but an absent or null field gives undefined. */
  optionalUint(name: string, min = 0): number | undefined {
    const raw = this.#field(name);
    return raw === undefined || raw === null ? undefined : this.uint(name, min);
  }

  /** A string within `bounds`. */
  text(name: string, bounds: TextBounds): string {
    const raw = this.#field(name);
    if (typeof raw !== "string") throw this.#wrong(name, "a string", describeValue(raw));
    const min = bounds.min ?? 0;
    if (raw.length < min || raw.length > bounds.max) {
      throw this.#wrong(name, `${min} to ${bounds.max} characters`, `${raw.length}`);
    }
    if (bounds.pattern !== undefined && !bounds.pattern.test(raw)) {
      // Only short fields carry a pattern, and the length was checked above: safe to echo.
      throw this.#wrong(name, `a string matching ${String(bounds.pattern)}`, JSON.stringify(raw));
    }
    return raw;
  }

  /** Like `text`, but an absent or null field gives undefined. */
  optionalText(name: string, bounds: TextBounds): string | undefined {
    const raw = this.#field(name);
    return raw === undefined || raw === null ? undefined : this.text(name, bounds);
  }

  /** A byte string within `bounds`, as a plain Uint8Array view (not a copy). */
  bytes(name: string, bounds: ByteBounds): Uint8Array {
    const raw = this.#field(name);
    if (!(raw instanceof Uint8Array)) throw this.#wrong(name, "a byte string", describeValue(raw));
    const [min, max] =
      "length" in bounds ? [bounds.length, bounds.length] : [bounds.min ?? 0, bounds.max];
    if (raw.byteLength < min || raw.byteLength > max) {
      const expected = min === max ? `${min} bytes` : `${min} to ${max} bytes`;
      throw this.#wrong(name, expected, `${raw.byteLength}`);
    }
    // cbor-x hands out Node Buffers on Node; callers and equality checks want a plain view.
    return raw.constructor === Uint8Array
      ? raw
      : new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
  }

  /** A boolean. */
  bool(name: string): boolean {
    const raw = this.#field(name);
    if (typeof raw !== "boolean") throw this.#wrong(name, "a boolean", describeValue(raw));
    return raw;
  }

  /** Like `bool`, but an absent or null field gives undefined. */
  optionalBool(name: string): boolean | undefined {
    const raw = this.#field(name);
    return raw === undefined || raw === null ? undefined : this.bool(name);
  }

  /** A nested map, read with its own reader. */
  map(name: string): FieldReader {
    return new FieldReader(`${this.#label} field "${name}"`, this.#field(name), this.#closeCode);
  }

  // Own properties only: a field named like an Object.prototype member must not read it.
  #field(name: string): unknown {
    return Object.hasOwn(this.#body, name) ? this.#body[name] : undefined;
  }

  #wrong(name: string, expected: string, got: string): SynclineError {
    return this.#fail(`${this.#label} field "${name}" must be ${expected}, got ${got}`);
  }

  #fail(message: string): SynclineError {
    const options = { closeCode: this.#closeCode };
    return createError("ERR_WIRE_MESSAGE", `wire: ${message}`, options);
  }
}

/**
 * Checks that `value` is a map (a plain object) and returns a reader for its fields. `label`
 * names the message in errors (`HELLO`); `closeCode` is the one they end a connection with: 4400
 * when decoding (the peer's fault), 1011 when encoding (our own bug).
 */
export function readFields(label: string, value: unknown, closeCode: number): FieldReader {
  return new FieldReader(label, value, closeCode);
}

function isPlainMap(value: unknown): value is WireBody {
  if (typeof value !== "object" || value === null) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

// Names the kind of a bad value without echoing it: it may be large or hostile.
function describeValue(value: unknown): string {
  if (value === undefined) return "nothing (missing)";
  if (value === null) return "null";
  if (typeof value === "number") return Number.isFinite(value) ? `${value}` : String(value);
  if (typeof value === "bigint") return "an integer beyond ±2^53";
  if (value instanceof Uint8Array) return `${value.byteLength} bytes`;
  if (Array.isArray(value)) return "an array";
  if (isPlainMap(value)) return "a map";
  return typeof value === "object" ? "an object that is not a map" : `a ${typeof value}`;
}
