// The messages of wire v1, one discriminated union per direction (as in automerge-repo's
// messages.ts), and their codec: control bodies are CBOR maps, DATA bodies are raw bytes.

import { Encoder } from "cbor-x";
import { StandardCloseCode, WireCloseCode } from "./close-codes.js";
import { createError, describeError } from "./errors.js";
import { type FieldReader, readFields, wireFieldLimits } from "./wire-fields.js";
import {
  encodeFrame,
  FrameFlag,
  FrameType,
  type FrameTypeName,
  frameHeaderBytes,
  frameScope,
  frameTypeLabel,
  frameTypeName,
  type WireFrame,
} from "./wire-frame.js";
import type { WireVersionRange } from "./wire-version.js";

/** HELLO (c→s, stream 0): the versions the client speaks and its contribution to the transcript. */
export interface HelloMessage {
  readonly type: "hello";
  /** The wire versions the client offers. */
  readonly versions: WireVersionRange;
  /** 32 random bytes, signed by the server's host key so the client knows the CHALLENGE is fresh. */
  readonly clientNonce: Uint8Array;
  /** The client software, e.g. `syncline/0.1.0` (for logs; at most 256 characters). */
  readonly agent: string;
  /**
   * Bytes the server may send on streams it opens eagerly (see OPEN's `eager`), across all of
   * them until each is acknowledged. Absent (older clients): 0, no eager streams to this client.
   */
  readonly openCredit?: number;
}

/** CHALLENGE (s→c, stream 0): the chosen version and what the client must sign. */
export interface ChallengeMessage {
  readonly type: "challenge";
  /** The negotiated wire version. */
  readonly version: number;
  /** The server's id (1–256 characters). */
  readonly serverId: string;
  /** 16 bytes naming this connection. */
  readonly sessionId: Uint8Array;
  /** 32 single-use random bytes. */
  readonly nonce: Uint8Array;
  /** How long the nonce stays valid, in milliseconds. */
  readonly expiresInMs: number;
  /** The server's host public key, OpenSSH text (`ssh-ed25519 AAAA…`). */
  readonly hostKey: string;
  /** SSHSIG of the transcript with the host key (namespace `syncline-wire-host@syncline`). */
  readonly hostSignature: Uint8Array;
}

/** AUTH (c→s, stream 0): the client's key and its signature of the transcript. */
export interface AuthMessage {
  readonly type: "auth";
  /** The client's public key, OpenSSH text. */
  readonly publicKey: string;
  /** SSHSIG of the transcript (namespace `syncline-wire-auth@syncline`). */
  readonly signature: Uint8Array;
}

/** WELCOME (s→c, stream 0): authentication succeeded; the connection's settings. */
export interface WelcomeMessage {
  readonly type: "welcome";
  /** The id the server knows this connection's peer by. */
  readonly peerId: string;
  /** How often the server pings, in milliseconds. */
  readonly heartbeatMs: number;
  /** The largest frame (header included) the server accepts after authentication. */
  readonly maxFrameBytes: number;
  /** The server's open credit for the client's eager streams, as HELLO's; absent: 0. */
  readonly openCredit?: number;
}

/** ERROR (both, any stream): a failure; on stream 0 it precedes a close. */
export interface ErrorMessage {
  readonly type: "error";
  /** 0 for the connection, else the stream that failed. */
  readonly streamId: number;
  /** A stable code, `ERR_…` (docs/errors.md; a newer peer may send codes we do not know). */
  readonly code: string;
  /** For people; at most 4096 characters. */
  readonly message: string;
}

/** OPEN (both, a new stream): a transfer starts. */
export interface OpenMessage {
  readonly type: "open";
  readonly streamId: number;
  /** Names the payload across reconnects, so RESUME can find it. */
  readonly transferId: string;
  /** The channel the payload is published on. */
  readonly channel: string;
  /** The payload's total size in bytes. */
  readonly size: number;
  /** The device the payload came from (stops sync loops). */
  readonly origin: string;
  /** A file name, when the payload is a file. */
  readonly name?: string;
  /** The largest DATA payload on this stream, at least 1. */
  readonly chunkSize: number;
  /**
   * True: the sender does not wait for RESUME and CREDIT; the whole payload (at most `chunkSize`
   * bytes, within the open credit the receiver announced) follows at once as one DATA frame and
   * END, always from byte 0. The receiver sends neither RESUME nor CREDIT, only ACK or CANCEL.
   */
  readonly eager?: boolean;
}

/** DATA (both, a stream): raw payload bytes; `fin` marks the last chunk. */
export interface DataMessage {
  readonly type: "data";
  readonly streamId: number;
  /** The chunk; when decoded, a view into the frame (not a copy). */
  readonly bytes: Uint8Array;
  /** True on the last DATA frame of the stream (flag FIN). */
  readonly fin: boolean;
}

/** END (sender→receiver, a stream): all bytes were sent; check them against this digest. */
export interface EndMessage {
  readonly type: "end";
  readonly streamId: number;
  /** The payload's total size in bytes. */
  readonly size: number;
  /** SHA-256 of the whole payload (32 bytes). */
  readonly sha256: Uint8Array;
}

/** CREDIT (receiver→sender, a stream): the sender may send this many more bytes. */
export interface CreditMessage {
  readonly type: "credit";
  readonly streamId: number;
  /** More payload bytes the sender may send, at least 1. */
  readonly bytes: number;
}

/** RESUME (receiver→sender, a stream): the receiver already holds the first `offset` bytes. */
export interface ResumeMessage {
  readonly type: "resume";
  readonly streamId: number;
  readonly transferId: string;
  /** Bytes the receiver already holds; the sender continues from here. */
  readonly offset: number;
}

/** CANCEL (both, a stream): the transfer is abandoned. */
export interface CancelMessage {
  readonly type: "cancel";
  readonly streamId: number;
  /** Why, as a stable code `ERR_…`. */
  readonly code: string;
  /** For people; at most 4096 characters. */
  readonly message: string;
}

/** ACK (receiver→sender, a stream): the payload arrived complete and its digest matched. */
export interface AckMessage {
  readonly type: "ack";
  readonly streamId: number;
  readonly transferId: string;
  /** SHA-256 of the payload as received (32 bytes). */
  readonly sha256: Uint8Array;
  /**
   * Server to a publisher only: how many subscribers had received the whole payload (and
   * acknowledged it) when the server sent this ACK. Absent from other ACKs and older servers.
   */
  readonly delivered?: number;
  /**
   * Server to a publisher only: true when the server keeps the payload as the channel's latest,
   * durably, for receivers that come later; false when it only relayed it. Absent as `delivered`.
   */
  readonly kept?: boolean;
}

/** SUBSCRIBE (c→s, stream 0): deliver a channel's payloads to this connection. */
export interface SubscribeMessage {
  readonly type: "subscribe";
  readonly channel: string;
  /** Send the channel's latest payload at once. */
  readonly latest: boolean;
  /** Keep sending new payloads as they are published. */
  readonly follow: boolean;
}

/** UNSUBSCRIBE (c→s, stream 0): stop delivering a channel. */
export interface UnsubscribeMessage {
  readonly type: "unsubscribe";
  readonly channel: string;
}

/** The messages of a stream, sent by either end. */
export type StreamMessage =
  | OpenMessage
  | DataMessage
  | EndMessage
  | CreditMessage
  | ResumeMessage
  | CancelMessage
  | AckMessage;

/** Every message a client sends. */
export type ClientMessage =
  | HelloMessage
  | AuthMessage
  | SubscribeMessage
  | UnsubscribeMessage
  | ErrorMessage
  | StreamMessage;

/** Every message a server sends. */
export type ServerMessage = ChallengeMessage | WelcomeMessage | ErrorMessage | StreamMessage;

/** Every wire v1 message. */
export type WireMessage = ClientMessage | ServerMessage;

/** The message of a given `type`, e.g. `MessageOf<"hello">` is HelloMessage. */
export type MessageOf<T extends WireMessage["type"]> = Extract<WireMessage, { type: T }>;

type ControlType = Exclude<FrameTypeName, "data">;
type BodyOf<T extends ControlType> = Omit<MessageOf<T>, "type" | "streamId">;

const { shortText, longText, key, code } = wireFieldLimits;
const idText = { min: 1, max: shortText };
const keyText = { min: 1, max: key };
const codeText = { min: 5, max: code, pattern: /^ERR_[A-Z0-9_]+$/ };
const messageText = { max: longText };
const digest = { length: 32 };

// One validator per control message: it reads and checks every field and returns the body with
// only the known fields, so unknown extras (a newer minor revision) are dropped, never passed on.
const bodyReaders: { readonly [T in ControlType]: (fields: FieldReader) => BodyOf<T> } = {
  hello: (f) => {
    const openCredit = f.optionalUint("openCredit");
    return {
      versions: readVersionRange(f.map("versions")),
      clientNonce: f.bytes("clientNonce", { length: 32 }),
      agent: f.text("agent", { max: shortText }),
      ...(openCredit === undefined ? {} : { openCredit }),
    };
  },
  challenge: (f) => ({
    version: f.uint("version", 1),
    serverId: f.text("serverId", idText),
    sessionId: f.bytes("sessionId", { length: 16 }),
    nonce: f.bytes("nonce", { length: 32 }),
    expiresInMs: f.uint("expiresInMs"),
    hostKey: f.text("hostKey", keyText),
    hostSignature: f.bytes("hostSignature", { min: 1, max: key }),
  }),
  auth: (f) => ({
    publicKey: f.text("publicKey", keyText),
    signature: f.bytes("signature", { min: 1, max: key }),
  }),
  welcome: (f) => {
    const openCredit = f.optionalUint("openCredit");
    return {
      peerId: f.text("peerId", idText),
      heartbeatMs: f.uint("heartbeatMs", 1),
      maxFrameBytes: f.uint("maxFrameBytes", frameHeaderBytes),
      ...(openCredit === undefined ? {} : { openCredit }),
    };
  },
  error: (f) => ({ code: f.text("code", codeText), message: f.text("message", messageText) }),
  open: (f) => {
    const name = f.optionalText("name", { min: 1, max: longText });
    const eager = f.optionalBool("eager");
    return {
      transferId: f.text("transferId", idText),
      channel: f.text("channel", idText),
      size: f.uint("size"),
      origin: f.text("origin", idText),
      ...(name === undefined ? {} : { name }),
      chunkSize: f.uint("chunkSize", 1),
      ...(eager === true ? { eager } : {}),
    };
  },
  end: (f) => ({ size: f.uint("size"), sha256: f.bytes("sha256", digest) }),
  credit: (f) => ({ bytes: f.uint("bytes", 1) }),
  resume: (f) => ({ transferId: f.text("transferId", idText), offset: f.uint("offset") }),
  cancel: (f) => ({ code: f.text("code", codeText), message: f.text("message", messageText) }),
  ack: (f) => {
    const delivered = f.optionalUint("delivered");
    const kept = f.optionalBool("kept");
    return {
      transferId: f.text("transferId", idText),
      sha256: f.bytes("sha256", digest),
      ...(delivered === undefined ? {} : { delivered }),
      ...(kept === undefined ? {} : { kept }),
    };
  },
  subscribe: (f) => ({
    channel: f.text("channel", idText),
    latest: f.bool("latest"),
    follow: f.bool("follow"),
  }),
  unsubscribe: (f) => ({ channel: f.text("channel", idText) }),
};

function readVersionRange(fields: FieldReader): WireVersionRange {
  return { min: fields.uint("min", 1), max: fields.uint("max", 1) };
}

// Plain maps with string keys and byte strings as CBOR major type 2, as the notes fix; one
// instance is enough because encode and decode are synchronous and keep no state between calls.
const cbor = new Encoder({ useRecords: false, tagUint8Array: false });

const streamTypes: readonly StreamMessage["type"][] = [
  "open",
  "data",
  "end",
  "credit",
  "resume",
  "cancel",
  "ack",
];
const clientTypes: ReadonlySet<FrameTypeName> = new Set<ClientMessage["type"]>([
  "hello",
  "auth",
  "subscribe",
  "unsubscribe",
  "error",
  ...streamTypes,
]);
const serverTypes: ReadonlySet<FrameTypeName> = new Set<ServerMessage["type"]>([
  "challenge",
  "welcome",
  "error",
  ...streamTypes,
]);

/** True when `message` is of the given `type` (narrows it, as automerge-repo's `isXMessage`). */
export function isMessageOf<T extends WireMessage["type"]>(
  message: WireMessage,
  type: T,
): message is MessageOf<T> {
  return message.type === type;
}

/** True when `message` belongs to a stream (OPEN … ACK). */
export function isStreamMessage(message: WireMessage): message is StreamMessage {
  return frameScope(FrameType[message.type]) === "stream";
}

/** True when a client may send `message`. */
export function isClientMessage(message: WireMessage): message is ClientMessage {
  return clientTypes.has(message.type);
}

/** True when a server may send `message`. */
export function isServerMessage(message: WireMessage): message is ServerMessage {
  return serverTypes.has(message.type);
}

/**
 * Encodes a message as one frame (its stream id is the message's `streamId`, else 0). Every field
 * is checked as the receiver will check it; a bad one throws ERR_WIRE_MESSAGE (no close code:
 * the bug is ours). DATA chunks are copied; use `writeFrameHeader` to send one without copying.
 */
export function encodeMessage(message: WireMessage): Uint8Array {
  if (message.type === "data") {
    const flags = message.fin ? FrameFlag.fin : 0;
    return encodeFrame({
      type: FrameType.data,
      flags,
      streamId: message.streamId,
      payload: message.bytes,
    });
  }
  const type = FrameType[message.type];
  const read = bodyReaders[message.type] as (fields: FieldReader) => object;
  // A message we cannot encode is our bug: an internal error if it ends a connection.
  const body = read(readFields(frameTypeLabel(type), message, StandardCloseCode.internalError));
  const streamId = "streamId" in message ? message.streamId : 0;
  return encodeFrame({ type, flags: 0, streamId, payload: cbor.encode(body) });
}

/**
 * Decodes the message a frame (from `decodeFrame`) carries. A control body that is not one CBOR
 * map, or whose fields are missing, mistyped or out of bounds, throws ERR_WIRE_MESSAGE (close
 * code 4400) naming the frame type and field. Byte fields and DATA chunks are views into the
 * frame, not copies.
 */
export function decodeMessage(frame: WireFrame): WireMessage {
  const name = frameTypeName(frame.type);
  const { streamId } = frame;
  if (name === "data") {
    return {
      type: "data",
      streamId,
      bytes: frame.payload,
      fin: (frame.flags & FrameFlag.fin) !== 0,
    };
  }
  const label = frameTypeLabel(frame.type);
  let value: unknown;
  try {
    value = cbor.decode(frame.payload);
  } catch (error) {
    throw createError(
      "ERR_WIRE_MESSAGE",
      `wire: ${label} body is not one valid CBOR item (${describeError(error)})`,
      { cause: error },
    );
  }
  const read = bodyReaders[name] as (fields: FieldReader) => object;
  const body = read(readFields(label, value, WireCloseCode.malformed));
  const scoped = frameScope(frame.type) === "connection" ? {} : { streamId };
  return { type: name, ...scoped, ...body } as WireMessage;
}

/** Like `decodeMessage`, for a server reading a client: other types throw ERR_WIRE_MESSAGE. */
export function decodeClientMessage(frame: WireFrame): ClientMessage {
  checkDirection(frame, clientTypes, "client");
  return decodeMessage(frame) as ClientMessage;
}

/** Like `decodeMessage`, for a client reading a server: other types throw ERR_WIRE_MESSAGE. */
export function decodeServerMessage(frame: WireFrame): ServerMessage {
  checkDirection(frame, serverTypes, "server");
  return decodeMessage(frame) as ServerMessage;
}

function checkDirection(frame: WireFrame, allowed: ReadonlySet<FrameTypeName>, who: string): void {
  if (!allowed.has(frameTypeName(frame.type))) {
    throw createError(
      "ERR_WIRE_MESSAGE",
      `wire: a ${who} does not send ${frameTypeLabel(frame.type)} frames`,
    );
  }
}
