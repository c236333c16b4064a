import { encode } from "cbor-x";
import { describe, expect, it } from "vitest";
import type { EphemeralMessage } from "../protocol/automerge-messages.js";
import { generateDocumentId } from "../util/ids.js";
import { nameOf } from "./document-store.js";
import {
  decodeEphemeral,
  decodeNodeMessage,
  encodeEphemeral,
  encodeNodeMessage,
  type NodeMessage,
} from "./node-messages.js";

describe("node messages", () => {
  const id = generateDocumentId();
  const bytes = new Uint8Array([1, 2, 3]);

  it("round-trips every message", () => {
    const messages: NodeMessage[] = [
      { t: "c", id, name: nameOf("inc", bytes), bytes },
      { t: "c", id, name: nameOf("snapshot", bytes), bytes },
      { t: "d", id },
      { t: "r", id },
      { t: "a" },
    ];
    for (const message of messages) {
      const decoded = decodeNodeMessage(encodeNodeMessage(message));
      // Byte strings decode as Buffers (Uint8Arrays): compared as plain arrays.
      expect(decoded?.t === "c" ? { ...decoded, bytes: [...decoded.bytes] } : decoded).toEqual(
        message.t === "c" ? { ...message, bytes: [...message.bytes] } : message,
      );
    }
  });

  it("refuses what is not one, without throwing", () => {
    const refused = [
      new Uint8Array([0xff, 0x00]),
      encode([1, 2]),
      encode({ t: "x", id }),
      encode({ t: "d", id: "not a document id" }),
      encode({ t: "c", id, name: "inc/000000000001", bytes }), // an old server's name
      encode({ t: "c", id, name: "../x", bytes }),
      encode({ t: "c", id, name: nameOf("inc", bytes), bytes: "text" }),
    ];
    for (const payload of refused) expect(decodeNodeMessage(payload)).toBeUndefined();
  });

  it("carries an ephemeral message as its frame, and checks it", () => {
    const message: EphemeralMessage = {
      type: "ephemeral",
      senderId: "alice",
      targetId: "server",
      documentId: id,
      count: 3,
      sessionId: "s1",
      data: bytes,
    };
    const decoded = decodeEphemeral(encodeEphemeral(message));
    expect({ ...decoded?.message, data: [...(decoded?.message.data ?? [])] }).toEqual({
      ...message,
      data: [...bytes],
    });
    expect(decoded?.bytes).toBeGreaterThan(bytes.length);
    const other = generateDocumentId();
    const mismatched = encode({ id: other, f: encodeEphemeral(message) });
    expect(decodeEphemeral(mismatched)).toBeUndefined();
    expect(decodeEphemeral(encode({ id, f: new Uint8Array([1]) }))).toBeUndefined();
  });
});
