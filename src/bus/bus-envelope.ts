// The envelope every bus driver puts on the wire around a payload: the envelope version and the
// sender's instance id. Pure functions; decoding never throws, it says why bytes are refused.
//
// Layout (version 1), a fixed binary layout rather than CBOR:
//
//   byte 0      0xB5, the mark of a bus envelope (not printable: text is never taken for one)
//   byte 1      version (1)
//   byte 2      n, the sender id's length in bytes (1–64)
//   bytes 3…    the sender id (n bytes of ASCII letters, digits and `. _ : -`)
//   then        the payload, every remaining byte (possibly none)
//
// Why not CBOR: payloads are already encoded bytes (automerge-repo CBOR, share frames), often
// large; a CBOR map around them costs an encoder pass and, decoding, a copy, where this layout
// costs 3 + n bytes and a subarray. Bytes 0 and 1 keep their meaning in every version, forever,
// so a node tells a newer envelope (dropped and counted) from garbage whatever the newer layout.
// A release that needs a new layout reads both, and sends the new one only once every node reads
// it (a rolling upgrade in two steps), or the old nodes drop its messages meanwhile.

/** The envelope version this release writes, and the newest it reads. */
export const busEnvelopeVersion = 1;

/** The first byte of every envelope. */
export const busEnvelopeMark = 0xb5;

/** The longest sender id the layout allows, in bytes. */
export const maxSenderIdLength = 64;

/** Mark, version and sender id length. */
const headerLength = 3;

const senderIdPattern = /^[A-Za-z0-9._:-]{1,64}$/;

/** A decoded envelope; `payload` is a view into the decoded bytes, not a copy. */
export interface BusEnvelope {
  readonly version: number;
  readonly sender: string;
  readonly payload: Uint8Array;
}

/**
 * What decoding found: an envelope, or why the bytes were refused. "newer-version" is a message
 * of a later release during a rolling upgrade (expected, counted); "malformed" is not one of ours.
 */
export type BusEnvelopeResult =
  | { readonly ok: true; readonly envelope: BusEnvelope }
  | {
      readonly ok: false;
      readonly problem: "newer-version" | "malformed";
      readonly reason: string;
    };

/** True when `id` can be a sender id: 1–64 characters of letters, digits and `. _ : -`. */
export function isValidSenderId(id: unknown): id is string {
  return typeof id === "string" && senderIdPattern.test(id);
}

/**
 * Encodes a version-1 envelope; the payload is copied, so the caller may reuse its array at once.
 * Throws RangeError for an invalid sender id (drivers check it when they open).
 */
export function encodeBusEnvelope(sender: string, payload: Uint8Array): Uint8Array {
  if (!isValidSenderId(sender)) {
    throw new RangeError(`bus envelope: sender id ${JSON.stringify(sender)} is not valid`);
  }
  const bytes = new Uint8Array(headerLength + sender.length + payload.length);
  bytes[0] = busEnvelopeMark;
  bytes[1] = busEnvelopeVersion;
  bytes[2] = sender.length;
  for (let i = 0; i < sender.length; i++) bytes[headerLength + i] = sender.charCodeAt(i);
  bytes.set(payload, headerLength + sender.length);
  return bytes;
}

/** Decodes an envelope; never throws, whatever `bytes` is. */
export function decodeBusEnvelope(bytes: unknown): BusEnvelopeResult {
  if (!(bytes instanceof Uint8Array)) return malformed(`not bytes but ${typeName(bytes)}`);
  if (bytes.length === 0) return malformed("empty message");
  if (bytes[0] !== busEnvelopeMark) {
    return malformed(`not a bus envelope (first byte 0x${hex(bytes[0] as number)})`);
  }
  if (bytes.length < 2) return malformed("truncated before the version");
  const version = bytes[1] as number;
  if (version > busEnvelopeVersion) {
    return {
      ok: false,
      problem: "newer-version",
      reason: `envelope version ${version} is newer than ${busEnvelopeVersion}, the newest this release reads`,
    };
  }
  if (version !== busEnvelopeVersion) return malformed(`unknown envelope version ${version}`);
  if (bytes.length < headerLength) return malformed("truncated before the sender id's length");
  const length = bytes[2] as number;
  if (length === 0 || length > maxSenderIdLength) {
    return malformed(`sender id length ${length} is not within 1–${maxSenderIdLength}`);
  }
  const end = headerLength + length;
  if (bytes.length < end) {
    return malformed(
      `truncated: a sender id of ${length} bytes, ${bytes.length - headerLength} left`,
    );
  }
  const sender = String.fromCharCode(...bytes.subarray(headerLength, end));
  if (!senderIdPattern.test(sender)) {
    return malformed(`sender id ${JSON.stringify(sender)} has a character out of [A-Za-z0-9._:-]`);
  }
  return { ok: true, envelope: { version, sender, payload: bytes.subarray(end) } };
}

function malformed(reason: string): BusEnvelopeResult {
  return { ok: false, problem: "malformed", reason };
}

function hex(byte: number): string {
  return byte.toString(16).padStart(2, "0");
}

function typeName(value: unknown): string {
  if (value === null) return "null";
  if (typeof value !== "object") return typeof value;
  return (value as object).constructor?.name ?? "an object";
}
