import { describe, expect, it } from "vitest";
import { SynclineError } from "./errors.js";
import {
  decodeFrame,
  encodeFrame,
  FrameFlag,
  FrameType,
  frameHeaderBytes,
  frameScope,
  frameTypeLabel,
  frameTypeName,
  isFrameType,
  type WireFrame,
  writeFrameHeader,
} from "./wire-frame.js";

const connectionTypes = [
  FrameType.hello,
  FrameType.challenge,
  FrameType.auth,
  FrameType.welcome,
  FrameType.subscribe,
  FrameType.unsubscribe,
];
const streamTypes = [
  FrameType.open,
  FrameType.data,
  FrameType.end,
  FrameType.credit,
  FrameType.resume,
  FrameType.cancel,
  FrameType.ack,
];

/** A frame with a hand-written header, so tests can state exactly the bytes a peer sends. */
function rawFrame(
  type: number,
  flags: number,
  streamId: number,
  payload: number[],
  length?: number,
) {
  const bytes = new Uint8Array(frameHeaderBytes + payload.length);
  const view = new DataView(bytes.buffer);
  view.setUint8(0, type);
  view.setUint8(1, flags);
  view.setUint32(2, streamId);
  view.setUint32(6, length ?? payload.length);
  bytes.set(payload, frameHeaderBytes);
  return bytes;
}

function thrown(action: () => unknown): SynclineError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(SynclineError);
    return error as SynclineError;
  }
  throw new Error("expected a throw");
}

function expectFrameError(bytes: Uint8Array, messagePart?: string): void {
  const error = thrown(() => decodeFrame(bytes));
  expect(error.code).toBe("ERR_WIRE_FRAME");
  expect(error.closeCode).toBe(4400);
  if (messagePart !== undefined) expect(error.message).toContain(messagePart);
}

describe("encodeFrame (golden bytes)", () => {
  it("writes type, flags, stream id and length big-endian, then the payload", () => {
    const bytes = encodeFrame({
      type: FrameType.open,
      flags: 0,
      streamId: 0x0102_0304,
      payload: new Uint8Array([0xaa, 0xbb, 0xcc]),
    });
    expect([...bytes]).toEqual([
      0x10, 0x00, 0x01, 0x02, 0x03, 0x04, 0x00, 0x00, 0x00, 0x03, 0xaa, 0xbb, 0xcc,
    ]);
  });

  it("sets FIN as bit 0 of the flags and handles the largest stream id", () => {
    const bytes = encodeFrame({
      type: FrameType.data,
      flags: FrameFlag.fin,
      streamId: 0xffff_ffff,
      payload: new Uint8Array(0x0102),
    });
    expect([...bytes.subarray(0, frameHeaderBytes)]).toEqual([
      0x11, 0x01, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x01, 0x02,
    ]);
  });

  it("encodes a header alone that, followed by the payload, equals the whole frame", () => {
    const frame = {
      type: FrameType.data,
      flags: 0,
      streamId: 7,
      payload: new Uint8Array([1, 2, 3, 4, 5]),
    };
    const target = new Uint8Array(frameHeaderBytes + frame.payload.byteLength).fill(0xee);
    target.set(frame.payload, frameHeaderBytes);
    writeFrameHeader(target, frame, frame.payload.byteLength);
    expect(target).toEqual(encodeFrame(frame));
    expect(() => writeFrameHeader(new Uint8Array(9), frame, 0)).toThrow(RangeError);
  });
});

describe("decodeFrame", () => {
  it("round-trips every frame type on a stream id it may use", () => {
    for (const type of Object.values(FrameType)) {
      const streamId = frameScope(type) === "connection" ? 0 : 2 * type + 1;
      const frame: WireFrame = { type, flags: 0, streamId, payload: new Uint8Array([type, 9]) };
      expect(decodeFrame(encodeFrame(frame))).toEqual(frame);
    }
  });

  it("accepts ERROR on stream 0 and on a stream", () => {
    expect(decodeFrame(rawFrame(FrameType.error, 0, 0, [])).streamId).toBe(0);
    expect(decodeFrame(rawFrame(FrameType.error, 0, 5, [])).streamId).toBe(5);
  });

  it("decodes FIN on DATA and an empty payload", () => {
    const frame = decodeFrame(rawFrame(FrameType.data, FrameFlag.fin, 3, []));
    expect(frame.flags).toBe(FrameFlag.fin);
    expect(frame.payload.byteLength).toBe(0);
  });

  it("returns the payload as a view into the input, not a copy", () => {
    const backing = new Uint8Array(64);
    const bytes = rawFrame(FrameType.data, 0, 1, [7, 8, 9]);
    backing.set(bytes, 20);
    const frame = decodeFrame(backing.subarray(20, 20 + bytes.byteLength));
    expect(frame.payload.buffer).toBe(backing.buffer);
    expect(frame.payload.byteOffset).toBe(20 + frameHeaderBytes);
    expect([...frame.payload]).toEqual([7, 8, 9]);
  });

  it("refuses input shorter than the header", () => {
    expectFrameError(new Uint8Array(0), "0 bytes");
    expectFrameError(new Uint8Array(9), "9 bytes");
  });

  it("refuses a declared length that differs from the bytes carried", () => {
    expectFrameError(
      rawFrame(FrameType.data, 0, 1, [1, 2, 3, 4, 5, 6, 7], 20),
      "frame declares 20 payload bytes but carries 7",
    );
    expectFrameError(rawFrame(FrameType.data, 0, 1, [1, 2, 3], 2), "declares 2");
    expectFrameError(rawFrame(FrameType.data, 0, 1, [], 0xffff_ffff), "declares 4294967295");
  });

  it("refuses unknown frame types", () => {
    for (const type of [0x00, 0x06, 0x0f, 0x17, 0x22, 0xff]) {
      expectFrameError(rawFrame(type, 0, 0, []), "unknown frame type");
    }
  });

  it("refuses reserved flag bits", () => {
    for (const flags of [0x02, 0x80, 0xff]) {
      expectFrameError(rawFrame(FrameType.data, flags, 1, []), "reserved flag bits");
    }
  });

  it("refuses FIN on a frame other than DATA", () => {
    expectFrameError(rawFrame(FrameType.end, FrameFlag.fin, 1, []), "only DATA");
    expectFrameError(rawFrame(FrameType.hello, FrameFlag.fin, 0, []), "only DATA");
  });

  it("refuses a non-zero stream id on connection frames", () => {
    for (const type of connectionTypes) {
      expectFrameError(rawFrame(type, 0, 1, []), "must use stream 0");
    }
  });

  it("refuses stream 0 on stream frames", () => {
    for (const type of streamTypes) {
      expectFrameError(rawFrame(type, 0, 0, []), "other than 0");
    }
  });
});

describe("encodeFrame validation", () => {
  // Sending a frame the peer must refuse is our bug: the error has a code but no close code.
  const cases: [string, WireFrame][] = [
    ["unknown type", { type: 0x42 as FrameType, flags: 0, streamId: 0, payload: new Uint8Array() }],
    [
      "reserved flags",
      { type: FrameType.data, flags: 0x04, streamId: 1, payload: new Uint8Array() },
    ],
    ["flags > 255", { type: FrameType.data, flags: 0x101, streamId: 1, payload: new Uint8Array() }],
    ["FIN on OPEN", { type: FrameType.open, flags: 1, streamId: 1, payload: new Uint8Array() }],
    ["negative id", { type: FrameType.data, flags: 0, streamId: -1, payload: new Uint8Array() }],
    ["id > u32", { type: FrameType.data, flags: 0, streamId: 2 ** 32, payload: new Uint8Array() }],
    ["fractional id", { type: FrameType.data, flags: 0, streamId: 1.5, payload: new Uint8Array() }],
    ["HELLO on 3", { type: FrameType.hello, flags: 0, streamId: 3, payload: new Uint8Array() }],
    ["CREDIT on 0", { type: FrameType.credit, flags: 0, streamId: 0, payload: new Uint8Array() }],
  ];

  it.each(cases)("refuses %s", (_name, frame) => {
    const error = thrown(() => encodeFrame(frame));
    expect(error.code).toBe("ERR_WIRE_FRAME");
    expect(error.closeCode).toBe(1011);
  });

  it("refuses a payload length beyond u32 in a header", () => {
    const header = { type: FrameType.data, flags: 0, streamId: 1 };
    const target = new Uint8Array(frameHeaderBytes);
    expect(thrown(() => writeFrameHeader(target, header, 2 ** 32)).code).toBe("ERR_WIRE_FRAME");
    expect(thrown(() => writeFrameHeader(target, header, -1)).code).toBe("ERR_WIRE_FRAME");
  });
});

describe("frame type helpers", () => {
  it("names, labels and scopes every type", () => {
    expect(frameTypeName(FrameType.unsubscribe)).toBe("unsubscribe");
    expect(frameTypeLabel(FrameType.challenge)).toBe("CHALLENGE");
    expect(connectionTypes.map(frameScope)).toEqual(connectionTypes.map(() => "connection"));
    expect(streamTypes.map(frameScope)).toEqual(streamTypes.map(() => "stream"));
    expect(frameScope(FrameType.error)).toBe("any");
    expect(isFrameType(0x05)).toBe(true);
    expect(isFrameType(0x06)).toBe(false);
  });
});
