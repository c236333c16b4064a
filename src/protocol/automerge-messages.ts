// The automerge-repo WebSocket protocol, version "1": message types (one union for both
// directions, since peers are symmetric after the handshake), a guard per variant, and the CBOR
// codec with the reference's cbor-x options so our frames are byte-identical to theirs.

import bs58check from "bs58check";
import { Decoder, Encoder } from "cbor-x";
import { createError, type SynclineError } from "./errors.js";

/** The only protocol version automerge-repo 2.x speaks. */
export const automergeProtocolVersion = "1";

/** What a peer says about itself in `join` and `peer`. */
export interface PeerMetadata {
  /** A UUID naming the peer's storage; absent (or undefined) for a storage-less peer. */
  readonly storageId?: string | undefined;
  /** True for peers that keep nothing (such as a one-shot CLI). */
  readonly isEphemeral?: boolean | undefined;
}

/** Client → server, first frame (sent again after every reconnect). */
export interface JoinMessage {
  readonly type: "join";
  readonly senderId: string;
  readonly peerMetadata: PeerMetadata;
  /** Missing on the wire means ["1"]. */
  readonly supportedProtocolVersions: readonly string[];
}

/** Server → client, the answer to a join it accepts. */
export interface PeerMessage {
  readonly type: "peer";
  readonly senderId: string;
  readonly peerMetadata: PeerMetadata;
  readonly selectedProtocolVersion: string;
  readonly targetId: string;
}

/** Server → client before closing: the join cannot be accepted. */
export interface ErrorMessage {
  readonly type: "error";
  readonly senderId: string;
  readonly message: string;
  readonly targetId: string;
}

/** In the protocol text, never sent by the JS implementation; ignored. */
export interface LeaveMessage {
  readonly type: "leave";
  readonly senderId: string;
}

/** `request` when the sender has no copy of the document, `sync` otherwise. */
export interface SyncMessage {
  readonly type: "sync" | "request";
  readonly senderId: string;
  readonly targetId: string;
  readonly documentId: string;
  /** An Automerge sync message. */
  readonly data: Uint8Array;
}

/** The sender has no copy of the document and knows of nobody who has. */
export interface DocUnavailableMessage {
  readonly type: "doc-unavailable";
  readonly senderId: string;
  readonly targetId: string;
  readonly documentId: string;
}

/** An application payload relayed to the document's other peers, never stored. */
export interface EphemeralMessage {
  readonly type: "ephemeral";
  /** The original author, kept when relayed. */
  readonly senderId: string;
  readonly targetId: string;
  readonly documentId: string;
  /** Strictly increasing per (senderId, sessionId); relays dedupe on it. */
  readonly count: number;
  readonly sessionId: string;
  /** CBOR of the application's payload (opaque here). */
  readonly data: Uint8Array;
}

/** Subscribes to (or unsubscribes from) the heads of other storage ids. */
export interface RemoteSubscriptionChangeMessage {
  readonly type: "remote-subscription-change";
  readonly senderId: string;
  readonly targetId: string;
  readonly add?: readonly string[] | undefined;
  readonly remove?: readonly string[] | undefined;
}

/** The heads some storage holds for a document. */
export interface RemoteHeadsChangedMessage {
  readonly type: "remote-heads-changed";
  readonly senderId: string;
  readonly targetId: string;
  readonly documentId: string;
  readonly newHeads: Readonly<
    Record<string, { readonly heads: readonly string[]; readonly timestamp: number }>
  >;
}

/** The longest peer id a `join` may carry. */
export const maxPeerIdLength = 1024;

/** A well-formed frame of a type this version does not know; receivers ignore it. */
export interface UnknownMessage {
  readonly type: "unknown";
  /** The type string the frame carried. */
  readonly originalType: string;
  readonly senderId: string | undefined;
}

/** Every message of protocol "1", either direction. */
export type RepoMessage =
  | JoinMessage
  | PeerMessage
  | ErrorMessage
  | LeaveMessage
  | SyncMessage
  | DocUnavailableMessage
  | EphemeralMessage
  | RemoteSubscriptionChangeMessage
  | RemoteHeadsChangedMessage;

/** What `decodeRepoMessage` returns: a known message or a tolerated unknown one. */
export type DecodedRepoMessage = RepoMessage | UnknownMessage;

// The reference's options: byte strings untagged (no tag 64), no record extension.
const encoder = new Encoder({ tagUint8Array: false, useRecords: false });
const decoder = new Decoder({ useRecords: false, mapsAsObjects: true });

/** Encodes one message as one CBOR map, byte-identical to automerge-repo's own frames. */
export function encodeRepoMessage(message: RepoMessage): Uint8Array {
  return encoder.encode(message);
}

/**
 * Decodes and validates one frame. Throws ERR_AUTOMERGE_MESSAGE (close code 4400) for anything
 * that is not a CBOR map with a string `type` and the fields that type needs, correctly typed.
 * Tolerates what real peers send: unknown keys, `undefined` values, float-encoded counts,
 * `metadata` for `peerMetadata`, a missing `supportedProtocolVersions`, a byte-string documentId.
 */
export function decodeRepoMessage(frame: Uint8Array): DecodedRepoMessage {
  let value: unknown;
  try {
    value = decoder.decode(frame);
  } catch (error) {
    throw malformed(`frame of ${frame.length} bytes is not valid CBOR`, error);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value) || isBytes(value)) {
    throw malformed(`frame is not a CBOR map but ${describeValue(value)}`);
  }
  const fields = value as Record<string, unknown>;
  const type = fields.type;
  if (typeof type !== "string") throw malformed(`frame has no string "type" field`);
  const read = createFieldReader(type, fields);
  switch (type) {
    case "join": {
      const versions = fields.supportedProtocolVersions;
      if (versions !== undefined && !isStringArray(versions)) {
        throw malformed(`join: "supportedProtocolVersions" is not an array of strings`);
      }
      const senderId = read.string("senderId");
      // The server keeps a joined peer's id for as long as it stays; real ids are a few dozen
      // characters, so a frame-sized one is refused rather than held.
      if (senderId.length > maxPeerIdLength) {
        throw malformed(
          `join: "senderId" has ${senderId.length} characters, more than ${maxPeerIdLength}`,
        );
      }
      return {
        type,
        senderId,
        peerMetadata: readPeerMetadata(type, fields.peerMetadata ?? fields.metadata),
        supportedProtocolVersions: versions ?? [automergeProtocolVersion],
      };
    }
    case "peer":
      return {
        type,
        senderId: read.string("senderId"),
        peerMetadata: readPeerMetadata(type, fields.peerMetadata ?? fields.metadata),
        selectedProtocolVersion: read.string("selectedProtocolVersion"),
        targetId: read.string("targetId"),
      };
    case "error":
      return {
        type,
        senderId: read.string("senderId"),
        message: read.optionalString("message") ?? "",
        targetId: read.string("targetId"),
      };
    case "leave":
      return { type, senderId: read.string("senderId") };
    case "sync":
    case "request":
      return {
        type,
        senderId: read.string("senderId"),
        targetId: read.string("targetId"),
        documentId: read.documentId(),
        data: read.bytes("data"),
      };
    case "doc-unavailable":
      return {
        type,
        senderId: read.string("senderId"),
        targetId: read.string("targetId"),
        documentId: read.documentId(),
      };
    case "ephemeral":
      return {
        type,
        senderId: read.string("senderId"),
        targetId: read.string("targetId"),
        documentId: read.documentId(),
        count: read.number("count"),
        sessionId: read.string("sessionId"),
        data: read.bytes("data"),
      };
    case "remote-subscription-change":
      return {
        type,
        senderId: read.string("senderId"),
        targetId: read.string("targetId"),
        add: read.optionalStringArray("add"),
        remove: read.optionalStringArray("remove"),
      };
    case "remote-heads-changed": {
      const newHeads = fields.newHeads;
      if (newHeads === null || typeof newHeads !== "object" || Array.isArray(newHeads)) {
        throw malformed(`remote-heads-changed: "newHeads" is not a map`);
      }
      return {
        type,
        senderId: read.string("senderId"),
        targetId: read.string("targetId"),
        documentId: read.documentId(),
        newHeads: newHeads as RemoteHeadsChangedMessage["newHeads"],
      };
    }
    default:
      return {
        type: "unknown",
        originalType: type,
        senderId: typeof fields.senderId === "string" ? fields.senderId : undefined,
      };
  }
}

interface FieldReader {
  string(name: string): string;
  optionalString(name: string): string | undefined;
  optionalStringArray(name: string): readonly string[] | undefined;
  number(name: string): number;
  bytes(name: string): Uint8Array;
  documentId(): string;
}

function createFieldReader(type: string, fields: Record<string, unknown>): FieldReader {
  const fail = (name: string, expected: string): never => {
    throw malformed(`${type}: "${name}" is ${describeValue(fields[name])}, not ${expected}`);
  };
  return {
    string: (name) => {
      const value = fields[name];
      return typeof value === "string" ? value : fail(name, "a string");
    },
    optionalString: (name) => {
      const value = fields[name];
      return value === undefined || typeof value === "string" ? value : fail(name, "a string");
    },
    optionalStringArray: (name) => {
      const value = fields[name];
      return value === undefined || isStringArray(value) ? value : fail(name, "a string array");
    },
    number: (name) => {
      const value = fields[name];
      return typeof value === "number" && Number.isFinite(value) ? value : fail(name, "a number");
    },
    bytes: (name) => {
      const value = fields[name];
      return isBytes(value) ? value : fail(name, "a byte string");
    },
    documentId: () => {
      const value = fields.documentId;
      if (typeof value === "string") return value;
      // Tolerated: the 16 raw bytes of the id instead of its bs58check text.
      if (isBytes(value) && value.length === 16) return bs58check.encode(value);
      return fail("documentId", "a document id string");
    },
  };
}

function readPeerMetadata(type: string, value: unknown): PeerMetadata {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value) || isBytes(value)) {
    throw malformed(`${type}: "peerMetadata" is ${describeValue(value)}, not a map`);
  }
  const { storageId, isEphemeral } = value as Record<string, unknown>;
  if (storageId !== undefined && typeof storageId !== "string") {
    throw malformed(`${type}: "peerMetadata.storageId" is ${describeValue(storageId)}`);
  }
  if (isEphemeral !== undefined && typeof isEphemeral !== "boolean") {
    throw malformed(`${type}: "peerMetadata.isEphemeral" is ${describeValue(isEphemeral)}`);
  }
  return { storageId, isEphemeral };
}

function isBytes(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array;
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === "string");
}

function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "missing";
  if (isBytes(value)) return `${value.length} bytes`;
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return `the string ${JSON.stringify(value.slice(0, 40))}`;
  return `a ${typeof value}`;
}

function malformed(message: string, cause?: unknown): SynclineError {
  return createError("ERR_AUTOMERGE_MESSAGE", `automerge message: ${message}`, {
    cause,
  });
}
