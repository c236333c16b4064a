// The frame codec of the transport (`GET /wire`, docs/design/wire-v1.md): a 10-byte big-endian
// header (type, flags, stream id, payload length) then the payload. Pure functions on bytes.

import { StandardCloseCode } from "./close-codes.js";
import { createError, type SynclineError } from "./errors.js";

/** Bytes in every frame header. */
export const frameHeaderBytes = 10;

/** The frame type codes of wire v1, by message name (the `type` of the decoded message). */
export const FrameType = {
  hello: 0x01,
  challenge: 0x02,
  auth: 0x03,
  welcome: 0x04,
  error: 0x05,
  open: 0x10,
  data: 0x11,
  end: 0x12,
  credit: 0x13,
  resume: 0x14,
  cancel: 0x15,
  ack: 0x16,
  subscribe: 0x20,
  unsubscribe: 0x21,
} as const;

/** A frame type code, e.g. `FrameType.hello` (0x01). */
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

/** A frame type's name, e.g. `"hello"`; also the `type` of the message it carries. */
export type FrameTypeName = keyof typeof FrameType;

/** The frame flag bits of wire v1; every other bit must be 0. */
export const FrameFlag = {
  /** The last DATA frame of a stream (valid on DATA frames only). */
  fin: 0x01,
} as const;

/** A frame flag bit. */
export type FrameFlag = (typeof FrameFlag)[keyof typeof FrameFlag];

/** Which stream ids a frame type may use: 0 only, non-zero only, or either (ERROR). */
export type FrameScope = "connection" | "stream" | "any";

/** One decoded frame. `payload` is a view into the decoded bytes, not a copy. */
export interface WireFrame {
  /** The frame type code. */
  readonly type: FrameType;
  /** The flag bits (`FrameFlag`). */
  readonly flags: number;
  /** 0 for the connection itself, else the stream (u32; client-opened odd, server-opened even). */
  readonly streamId: number;
  /** The body: CBOR for control frames, raw bytes for DATA. */
  readonly payload: Uint8Array;
}

/** The header fields of a frame, for `writeFrameHeader`. */
export type WireFrameHeader = Omit<WireFrame, "payload">;

const maxU32 = 0xffff_ffff;
const namesByCode = new Map<number, FrameTypeName>(
  Object.entries(FrameType).map(([name, code]) => [code, name as FrameTypeName]),
);
const knownFlags = FrameFlag.fin;

/** True when `code` is a wire v1 frame type. */
export function isFrameType(code: number): code is FrameType {
  return namesByCode.has(code);
}

/** The name of a frame type, e.g. `"hello"` for 0x01. */
export function frameTypeName(type: FrameType): FrameTypeName {
  return namesByCode.get(type) as FrameTypeName;
}

/** How a frame type is labelled in error messages and docs: `"HELLO"`. */
export function frameTypeLabel(type: FrameType): string {
  return frameTypeName(type).toUpperCase();
}

/** Which stream ids frames of `type` may carry. */
export function frameScope(type: FrameType): FrameScope {
  if (type === FrameType.error) return "any";
  return type >= FrameType.open && type <= FrameType.ack ? "stream" : "connection";
}

/**
 * Encodes a whole frame into one new buffer (header + a copy of the payload). Throws
 * ERR_WIRE_FRAME for a header the peer would refuse (a bug on our side, so no close code).
 */
export function encodeFrame(frame: WireFrame): Uint8Array {
  const bytes = new Uint8Array(frameHeaderBytes + frame.payload.byteLength);
  writeHeader(bytes, frame, frame.payload.byteLength);
  bytes.set(frame.payload, frameHeaderBytes);
  return bytes;
}

/**
 * Writes the 10-byte header of a frame into the first bytes of `target`, a frame buffer whose
 * payload of `payloadLength` bytes follows (or is written there later), so a large DATA chunk goes
 * out without being copied into a new frame. Validates as `encodeFrame` does.
 */
export function writeFrameHeader(
  target: Uint8Array,
  header: WireFrameHeader,
  payloadLength: number,
): void {
  if (target.byteLength < frameHeaderBytes) {
    throw new RangeError(
      `wire: a frame buffer of ${target.byteLength} bytes has no room for a header`,
    );
  }
  writeHeader(target, header, payloadLength);
}

/**
 * Decodes one frame (one WebSocket binary message) without copying its payload. Throws
 * ERR_WIRE_FRAME (close code 4400) for a short header, a length that disagrees with the bytes,
 * an unknown type, reserved or misplaced flags, or a stream id the type may not use.
 */
export function decodeFrame(bytes: Uint8Array): WireFrame {
  if (bytes.byteLength < frameHeaderBytes) {
    throw frameError(`wire: frame of ${bytes.byteLength} bytes is shorter than the 10-byte header`);
  }
  const type = bytes[0] as number;
  const flags = bytes[1] as number;
  const streamId = readU32(bytes, 2);
  const length = readU32(bytes, 6);
  const carried = bytes.byteLength - frameHeaderBytes;
  if (length !== carried) {
    throw frameError(`wire: frame declares ${length} payload bytes but carries ${carried}`);
  }
  if (!isFrameType(type)) throw frameError(`wire: unknown frame type ${hex(type)}`);
  const problem = headerProblem(type, flags, streamId);
  if (problem !== undefined) throw frameError(problem);
  return { type, flags, streamId, payload: bytes.subarray(frameHeaderBytes) };
}

function writeHeader(target: Uint8Array, header: WireFrameHeader, payloadLength: number): void {
  const { type, flags, streamId } = header;
  let problem: string | undefined;
  if (!isFrameType(type)) problem = `wire: cannot encode unknown frame type ${String(type)}`;
  else if (!isU32(payloadLength)) problem = `wire: payload length ${payloadLength} is not a u32`;
  else problem = headerProblem(type, flags, streamId);
  // A frame we cannot encode is our bug, not the peer's: it ends a connection as an internal error.
  if (problem !== undefined) {
    throw createError("ERR_WIRE_FRAME", problem, { closeCode: StandardCloseCode.internalError });
  }
  target[0] = type;
  target[1] = flags;
  writeU32(target, 2, streamId);
  writeU32(target, 6, payloadLength);
}

// Big-endian u32 by hand: a DataView per frame header costs more than the header itself.
function readU32(bytes: Uint8Array, at: number): number {
  return (
    (bytes[at] as number) * 0x100_0000 +
    (((bytes[at + 1] as number) << 16) |
      ((bytes[at + 2] as number) << 8) |
      (bytes[at + 3] as number))
  );
}

function writeU32(target: Uint8Array, at: number, value: number): void {
  target[at] = value >>> 24;
  target[at + 1] = (value >>> 16) & 0xff;
  target[at + 2] = (value >>> 8) & 0xff;
  target[at + 3] = value & 0xff;
}

// Shared by both directions so that we never send a header the other end would refuse.
function headerProblem(type: FrameType, flags: number, streamId: number): string | undefined {
  // The label only when there is a problem: this runs for every frame sent and received.
  const label = () => frameTypeLabel(type);
  if (!Number.isInteger(flags) || flags < 0 || flags > 0xff || (flags & ~knownFlags) !== 0) {
    return `wire: ${label()} frame has reserved flag bits set (flags ${hex(flags)})`;
  }
  if ((flags & FrameFlag.fin) !== 0 && type !== FrameType.data) {
    return `wire: ${label()} frame sets FIN, which only DATA frames may set`;
  }
  if (!isU32(streamId)) return `wire: ${label()} frame stream id ${streamId} is not a u32`;
  const scope = frameScope(type);
  if (scope === "connection" && streamId !== 0) {
    return `wire: ${label()} frame must use stream 0, not stream ${streamId}`;
  }
  if (scope === "stream" && streamId === 0) {
    return `wire: ${label()} frame must use a stream id other than 0`;
  }
  return undefined;
}

function frameError(message: string): SynclineError {
  return createError("ERR_WIRE_FRAME", message);
}

function isU32(value: number): boolean {
  return Number.isInteger(value) && value >= 0 && value <= maxU32;
}

function hex(value: number): string {
  return Number.isInteger(value) && value >= 0
    ? `0x${value.toString(16).padStart(2, "0")}`
    : String(value);
}
