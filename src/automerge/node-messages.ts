// What the document hubs of several nodes tell each other on the bus (document-nodes.ts), as
// small CBOR maps. Decoding never throws: a payload that is not one of these is reported and
// dropped by the caller, like any message from a newer or broken node.

import { Decoder, Encoder } from "cbor-x";
import {
  decodeRepoMessage,
  type EphemeralMessage,
  encodeRepoMessage,
} from "../protocol/automerge-messages.js";
import { isValidDocumentId } from "../util/ids.js";
import { isPieceName } from "./document-store.js";

/** The topic of stored pieces, deletes and refresh hints (in one topic: their order holds). */
export const documentTopic = "automerge";
/** The topic of relayed ephemeral messages (presence, cursors). */
export const ephemeralTopic = "automerge-ephemeral";

/** A message on `documentTopic`. */
export type NodeMessage =
  /** A piece `name` of `bytes` is durable in the store for document `id`. */
  | { readonly t: "c"; readonly id: string; readonly name: string; readonly bytes: Uint8Array }
  /** Document `id` was deleted (the admin API): its peers close, its entry is forgotten. */
  | { readonly t: "d"; readonly id: string }
  /** News of document `id` may have been lost: read the store. */
  | { readonly t: "r"; readonly id: string }
  /** News of many documents may have been lost: every loaded document reads the store. */
  | { readonly t: "a" };

// Byte strings untagged, plain maps: the same options as the repo protocol's frames.
const encoder = new Encoder({ tagUint8Array: false, useRecords: false });
const decoder = new Decoder({ useRecords: false, mapsAsObjects: true });

/** Encodes a message for `documentTopic`. */
export function encodeNodeMessage(message: NodeMessage): Uint8Array {
  return encoder.encode(message);
}

/** A message of `documentTopic`, or undefined when `payload` is not one. */
export function decodeNodeMessage(payload: Uint8Array): NodeMessage | undefined {
  const value = decodeMap(payload);
  if (!value) return undefined;
  const { t, id } = value;
  if (t === "a") return { t };
  if (!isValidDocumentId(id)) return undefined;
  if (t === "d" || t === "r") return { t, id };
  const { name, bytes } = value;
  if (t !== "c" || !isPieceName(name) || !(bytes instanceof Uint8Array)) return undefined;
  return { t, id, name, bytes };
}

/**
 * Encodes an ephemeral message for `ephemeralTopic`: its document id, and the message as the
 * repo protocol frames it (its sender, session and count are what the receivers dedupe on).
 */
export function encodeEphemeral(message: EphemeralMessage): Uint8Array {
  return encoder.encode({ id: message.documentId, f: encodeRepoMessage(message) });
}

/** The ephemeral message of `payload` and its frame's size, or undefined when not one. */
export function decodeEphemeral(
  payload: Uint8Array,
): { readonly message: EphemeralMessage; readonly bytes: number } | undefined {
  const value = decodeMap(payload);
  if (!value || !(value.f instanceof Uint8Array)) return undefined;
  try {
    const message = decodeRepoMessage(value.f);
    if (message.type !== "ephemeral" || message.documentId !== value.id) return undefined;
    if (!isValidDocumentId(message.documentId)) return undefined;
    return { message: message as EphemeralMessage, bytes: value.f.length };
  } catch {
    return undefined;
  }
}

function decodeMap(payload: Uint8Array): Record<string, unknown> | undefined {
  let value: unknown;
  try {
    value = decoder.decode(payload);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  return value as Record<string, unknown>;
}
