import { Encoder } from "cbor-x";
import { describe, expect, it } from "vitest";
import { SynclineError } from "./errors.js";
import { decodeFrame, encodeFrame, FrameType, type WireFrame } from "./wire-frame.js";
import {
  decodeClientMessage,
  decodeMessage,
  decodeServerMessage,
  encodeMessage,
  isClientMessage,
  isMessageOf,
  isServerMessage,
  isStreamMessage,
  type WireMessage,
} from "./wire-messages.js";

const filled = (length: number, byte: number) => new Uint8Array(length).fill(byte);
const cbor = new Encoder({ useRecords: false, tagUint8Array: false });

/** One valid message of every type (two of some), as the transport builds them. */
const sampleMessages: readonly WireMessage[] = [
  {
    type: "hello",
    versions: { min: 1, max: 3 },
    clientNonce: filled(32, 1),
    agent: "syncline/0.1.0",
  },
  {
    type: "challenge",
    version: 1,
    serverId: "srv-1",
    sessionId: filled(16, 2),
    nonce: filled(32, 3),
    expiresInMs: 30_000,
    hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHost host",
    hostSignature: filled(83, 4),
  },
  { type: "auth", publicKey: "ssh-ed25519 AAAAC3Nza me@laptop", signature: filled(83, 5) },
  { type: "welcome", peerId: "peer-7", heartbeatMs: 20_000, maxFrameBytes: 1_048_576 },
  {
    type: "welcome",
    peerId: "peer-8",
    heartbeatMs: 20_000,
    maxFrameBytes: 1_048_576,
    openCredit: 65_536,
  },
  {
    type: "hello",
    versions: { min: 1, max: 1 },
    clientNonce: filled(32, 8),
    agent: "syncline/0.2.0",
    openCredit: 0,
  },
  { type: "error", streamId: 0, code: "ERR_WIRE_VERSION", message: "wire version: no overlap" },
  { type: "error", streamId: 9, code: "ERR_STREAM_TOO_LARGE", message: "" },
  {
    type: "open",
    streamId: 1,
    transferId: "01J9ZK3M",
    channel: "clipboard",
    size: 5_000_000,
    origin: "laptop",
    name: "notes.txt",
    chunkSize: 65_536,
  },
  { type: "open", streamId: 2, transferId: "t", channel: "c", size: 0, origin: "o", chunkSize: 1 },
  {
    type: "open",
    streamId: 3,
    transferId: "t2",
    channel: "c",
    size: 1024,
    origin: "o",
    chunkSize: 1_048_576,
    eager: true,
  },
  { type: "data", streamId: 1, bytes: new Uint8Array([1, 2, 3]), fin: false },
  { type: "data", streamId: 1, bytes: new Uint8Array(0), fin: true },
  { type: "end", streamId: 1, size: 2 ** 40, sha256: filled(32, 6) },
  { type: "credit", streamId: 3, bytes: 1_048_576 },
  { type: "resume", streamId: 5, transferId: "01J9ZK3M", offset: 65_536 },
  { type: "cancel", streamId: 5, code: "ERR_STREAM_CANCELLED", message: "user pressed ctrl-c" },
  { type: "ack", streamId: 4, transferId: "01J9ZK3M", sha256: filled(32, 7) },
  {
    type: "ack",
    streamId: 3,
    transferId: "01J9ZK3M",
    sha256: filled(32, 7),
    delivered: 2,
    kept: false,
  },
  { type: "subscribe", channel: "clipboard", latest: true, follow: false },
  { type: "unsubscribe", channel: "clipboard" },
];

function thrown(action: () => unknown): SynclineError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(SynclineError);
    return error as SynclineError;
  }
  throw new Error("expected a throw");
}

/** A frame of `type` whose CBOR body is `body` (anything cbor-x encodes), bypassing checks. */
function frameWithBody(type: FrameType, body: unknown, streamId = 0): WireFrame {
  return decodeFrame(encodeFrame({ type, flags: 0, streamId, payload: cbor.encode(body) }));
}

function frameWithPayload(type: FrameType, payload: number[], streamId = 0): WireFrame {
  return decodeFrame(encodeFrame({ type, flags: 0, streamId, payload: new Uint8Array(payload) }));
}

function expectMessageError(frame: WireFrame, ...parts: string[]): void {
  const error = thrown(() => decodeMessage(frame));
  expect(error.code).toBe("ERR_WIRE_MESSAGE");
  expect(error.closeCode).toBe(4400);
  for (const part of parts) expect(error.message).toContain(part);
}

const hello = {
  versions: { min: 1, max: 1 },
  clientNonce: filled(32, 1),
  agent: "test",
};

describe("encodeMessage / decodeMessage", () => {
  it.each(sampleMessages.map((m) => [m.type, m] as const))("round-trips %s", (_type, message) => {
    expect(decodeMessage(decodeFrame(encodeMessage(message)))).toEqual(message);
  });

  it("puts each message on its stream and the connection messages on stream 0", () => {
    for (const message of sampleMessages) {
      const frame = decodeFrame(encodeMessage(message));
      expect(frame.type).toBe(FrameType[message.type]);
      expect(frame.streamId).toBe("streamId" in message ? message.streamId : 0);
    }
  });

  it("decodes by direction, refusing the other side's message types", () => {
    for (const message of sampleMessages) {
      const frame = decodeFrame(encodeMessage(message));
      for (const [decode, allowed] of [
        [decodeClientMessage, isClientMessage(message)],
        [decodeServerMessage, isServerMessage(message)],
      ] as const) {
        if (allowed) {
          expect(decode(frame)).toEqual(message);
        } else {
          const error = thrown(() => decode(frame));
          expect([error.code, error.closeCode]).toEqual(["ERR_WIRE_MESSAGE", 4400]);
        }
      }
    }
  });

  it("returns DATA bytes as a view into the frame and reads FIN from the flags", () => {
    const bytes = encodeMessage({ type: "data", streamId: 7, bytes: filled(5, 9), fin: true });
    const message = decodeMessage(decodeFrame(bytes));
    expect(message).toEqual({ type: "data", streamId: 7, bytes: filled(5, 9), fin: true });
    expect(isMessageOf(message, "data") && message.bytes.buffer).toBe(bytes.buffer);
  });

  it("returns byte fields as plain Uint8Arrays", () => {
    const message = decodeMessage(decodeFrame(encodeMessage(sampleMessages[0] as WireMessage)));
    expect(isMessageOf(message, "hello") && message.clientNonce.constructor).toBe(Uint8Array);
  });

  it("drops unknown fields and ignores an absent or null optional name", () => {
    const frame = frameWithBody(FrameType.hello, { ...hello, extra: "x", ["__proto__"]: 1 });
    expect(decodeMessage(frame)).toEqual({ type: "hello", ...hello });
    const open = { transferId: "t", channel: "c", size: 1, origin: "o", chunkSize: 1 };
    const decoded = decodeMessage(frameWithBody(FrameType.open, { ...open, name: null }, 1));
    expect(decoded).toEqual({ type: "open", streamId: 1, ...open });
    expect(Object.hasOwn(decoded, "name")).toBe(false);
  });

  it("leaves out an OPEN's eager flag when it is false (the usual stream)", () => {
    const open = { transferId: "t", channel: "c", size: 1, origin: "o", chunkSize: 1 };
    const decoded = decodeMessage(frameWithBody(FrameType.open, { ...open, eager: false }, 1));
    expect(decoded).toEqual({ type: "open", streamId: 1, ...open });
    expect(() => decodeMessage(frameWithBody(FrameType.open, { ...open, eager: 1 }, 1))).toThrow(
      /eager/,
    );
  });

  it("accepts integers that arrive as integral CBOR floats", () => {
    // credit {bytes: 3.0} as a half-precision float (0xf9 0x42 0x00), as other encoders may send
    const payload = [0xa1, 0x65, ...new TextEncoder().encode("bytes"), 0xf9, 0x42, 0x00];
    expect(decodeMessage(frameWithPayload(FrameType.credit, payload, 1))).toEqual({
      type: "credit",
      streamId: 1,
      bytes: 3,
    });
    // cbor-x itself writes integers beyond 2^32 as float64
    expect(
      decodeMessage(frameWithBody(FrameType.end, { size: 2 ** 52, sha256: filled(32, 0) }, 1)),
    ).toMatchObject({ size: 2 ** 52 });
  });
});

describe("decodeMessage refuses malformed bodies (ERR_WIRE_MESSAGE, 4400)", () => {
  it("refuses a body that is not one CBOR item", () => {
    expectMessageError(frameWithPayload(FrameType.hello, []), "HELLO", "CBOR");
    expectMessageError(frameWithPayload(FrameType.hello, [0xff]), "HELLO", "CBOR");
    expectMessageError(frameWithPayload(FrameType.hello, [0xa0, 0x00]), "HELLO", "CBOR");
    expectMessageError(frameWithPayload(FrameType.auth, [0x5a, 0xff, 0xff, 0xff, 0xff]), "AUTH");
  });

  it("refuses a body that is not a map", () => {
    for (const body of [[1, 2], "hello", 42, null, true, new Uint8Array(3)]) {
      expectMessageError(frameWithBody(FrameType.hello, body), "HELLO body must be a map");
    }
    // tag 27 (generic object) makes cbor-x build an Error: an object, but not a map
    expectMessageError(frameWithBody(FrameType.hello, new Error("x")), "not a map");
  });

  it("refuses missing fields", () => {
    const { clientNonce: _, ...noNonce } = hello;
    expectMessageError(
      frameWithBody(FrameType.hello, noNonce),
      'HELLO field "clientNonce"',
      "missing",
    );
    expectMessageError(frameWithBody(FrameType.credit, {}, 1), 'CREDIT field "bytes"');
  });

  it("refuses fields of the wrong type", () => {
    const cases: [FrameType, object, string][] = [
      [FrameType.hello, { ...hello, agent: 7 }, '"agent"'],
      [FrameType.hello, { ...hello, clientNonce: "x".repeat(32) }, '"clientNonce"'],
      [FrameType.hello, { ...hello, versions: [1, 1] }, '"versions"'],
      [FrameType.hello, { ...hello, versions: { min: "1", max: 1 } }, '"min"'],
      [FrameType.subscribe, { channel: "c", latest: 1, follow: false }, '"latest"'],
      [FrameType.unsubscribe, { channel: new Uint8Array(1) }, '"channel"'],
      [FrameType.welcome, { peerId: "p", heartbeatMs: "1", maxFrameBytes: 99 }, '"heartbeatMs"'],
    ];
    for (const [type, body, field] of cases) expectMessageError(frameWithBody(type, body), field);
  });

  it("refuses integers that are negative, fractional, too small or beyond 2^53", () => {
    const credit = (bytes: unknown) => frameWithBody(FrameType.credit, { bytes }, 1);
    for (const bad of [-1, 1.5, 0, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, 2n ** 64n]) {
      expectMessageError(credit(bad), 'CREDIT field "bytes"');
    }
    const open = { transferId: "t", channel: "c", size: 1, origin: "o", chunkSize: 0 };
    expectMessageError(frameWithBody(FrameType.open, open, 1), '"chunkSize"');
    expectMessageError(frameWithBody(FrameType.hello, { ...hello, versions: { min: 0, max: 1 } }));
  });

  it("refuses byte strings of the wrong length", () => {
    expectMessageError(
      frameWithBody(FrameType.hello, { ...hello, clientNonce: filled(31, 1) }),
      "31",
    );
    const end = (sha256: Uint8Array) => frameWithBody(FrameType.end, { size: 1, sha256 }, 1);
    expectMessageError(end(filled(33, 0)), '"sha256"', "32 bytes");
    const auth = (signature: Uint8Array) =>
      frameWithBody(FrameType.auth, { publicKey: "k", signature });
    expectMessageError(auth(new Uint8Array(0)), '"signature"');
    expectMessageError(auth(new Uint8Array(8193)), '"signature"');
  });

  it("refuses strings that are too long, empty where an id is needed, or badly formed codes", () => {
    const sub = (channel: string) =>
      frameWithBody(FrameType.subscribe, { channel, latest: true, follow: true });
    expect(decodeMessage(sub("c".repeat(256)))).toMatchObject({ channel: "c".repeat(256) });
    expectMessageError(sub("c".repeat(257)), '"channel"', "257");
    expectMessageError(sub(""), '"channel"');
    const error = (code: string) => frameWithBody(FrameType.error, { code, message: "m" });
    for (const bad of ["", "oops", "ERR_", "err_lower", `ERR_${"X".repeat(61)}`]) {
      expectMessageError(error(bad), 'ERROR field "code"');
    }
    const key = frameWithBody(FrameType.auth, {
      publicKey: "k".repeat(8193),
      signature: filled(1, 1),
    });
    expectMessageError(key, '"publicKey"');
  });
});

describe("encodeMessage refuses what the receiver would refuse", () => {
  it("checks fields, without a close code (the bug is ours)", () => {
    const bad = {
      type: "hello",
      versions: { min: 1, max: 1 },
      clientNonce: filled(3, 0),
      agent: "a",
    };
    const error = thrown(() => encodeMessage(bad as WireMessage));
    expect([error.code, error.closeCode]).toEqual(["ERR_WIRE_MESSAGE", 1011]);
  });

  it("checks the stream id", () => {
    const error = thrown(() => encodeMessage({ type: "credit", streamId: 0, bytes: 1 }));
    expect([error.code, error.closeCode]).toEqual(["ERR_WIRE_FRAME", 1011]);
  });
});

describe("message guards", () => {
  it("tell message kinds and directions apart", () => {
    const types = (pick: (m: WireMessage) => boolean) =>
      [...new Set(sampleMessages.filter(pick).map((m) => m.type))].sort();
    expect(types(isStreamMessage)).toEqual(
      ["ack", "cancel", "credit", "data", "end", "open", "resume"].sort(),
    );
    expect(types((m) => isClientMessage(m) && !isServerMessage(m))).toEqual(
      ["auth", "hello", "subscribe", "unsubscribe"].sort(),
    );
    expect(types((m) => isServerMessage(m) && !isClientMessage(m))).toEqual([
      "challenge",
      "welcome",
    ]);
    const message = sampleMessages[0] as WireMessage;
    expect(isMessageOf(message, "hello")).toBe(true);
    expect(isMessageOf(message, "auth")).toBe(false);
  });
});

describe("decoding hostile input (fuzz)", () => {
  // mulberry32: a seeded generator, so a failure reproduces exactly.
  function generator(seed: number): () => number {
    let state = seed >>> 0;
    return () => {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
    };
  }
  const random = generator(0x5eed);
  const below = (n: number) => Math.floor(random() * n);
  const randomBytes = (length: number) => Uint8Array.from({ length }, () => below(256));
  const types = Object.values(FrameType);

  /** Decodes `bytes` as a peer's frame: either a message we could have sent, or an ERR_WIRE_*. */
  function decodeOrRefuse(bytes: Uint8Array): "decoded" | "refused" {
    try {
      const message = decodeMessage(decodeFrame(bytes));
      expect(decodeMessage(decodeFrame(encodeMessage(message)))).toEqual(message);
      return "decoded";
    } catch (error) {
      const wire = error instanceof SynclineError && error.code.startsWith("ERR_WIRE_");
      if (!wire || error.closeCode !== 4400) throw error;
      return "refused";
    }
  }

  /** A header with a plausible type, stream id and the right length, over random bytes. */
  function plausibleFrame(): Uint8Array {
    const type = types[below(types.length)] as FrameType;
    const payload = randomBytes(below(48));
    const frame = new Uint8Array(10 + payload.length);
    const view = new DataView(frame.buffer);
    view.setUint8(0, type);
    view.setUint8(1, below(8) === 0 ? below(256) : 0);
    view.setUint32(2, below(8) === 0 ? below(2 ** 32) : type >= 0x10 && type <= 0x16 ? 1 : 0);
    view.setUint32(6, payload.length);
    frame.set(payload, 10);
    return frame;
  }

  it("never throws anything but ERR_WIRE_* for 2,000 random byte arrays", () => {
    const outcomes = { decoded: 0, refused: 0 };
    for (let i = 0; i < 2000; i++) {
      const bytes = i % 2 === 0 ? randomBytes(below(64)) : plausibleFrame();
      outcomes[decodeOrRefuse(bytes)] += 1;
    }
    expect(outcomes.refused).toBeGreaterThan(0);
    expect(outcomes.decoded + outcomes.refused).toBe(2000);
  });

  it("never throws anything but ERR_WIRE_* for truncated valid frames", () => {
    for (const message of sampleMessages) {
      const bytes = encodeMessage(message);
      for (let length = 0; length < bytes.byteLength; length++) {
        const cut = bytes.slice(0, length);
        decodeOrRefuse(cut);
        // the same cut with its length field fixed, so the CBOR decoder sees the short body
        if (length >= 10) new DataView(cut.buffer).setUint32(6, length - 10);
        decodeOrRefuse(cut);
      }
    }
  });

  it("never throws anything but ERR_WIRE_* for mutated valid frames", () => {
    let decoded = 0;
    for (const message of sampleMessages) {
      for (let round = 0; round < 100; round++) {
        const bytes = encodeMessage(message).slice();
        const flips = 1 + below(3);
        // mostly mutate the body, so mutations get past the header checks to the CBOR decoder
        for (let f = 0; f < flips; f++) {
          const at = round % 4 === 0 ? below(bytes.byteLength) : 10 + below(bytes.byteLength - 10);
          if (at < bytes.byteLength) bytes[at] = below(256);
        }
        if (decodeOrRefuse(bytes) === "decoded") decoded += 1;
      }
    }
    expect(decoded).toBeGreaterThan(0);
  });
});
