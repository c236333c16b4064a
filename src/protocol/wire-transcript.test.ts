import { describe, expect, it } from "vitest";
import {
  authTranscript,
  hostTranscript,
  type TranscriptFields,
  wireAuthNamespace,
  wireHostNamespace,
  wireTranscriptLabel,
} from "./wire-transcript.js";

const fields: TranscriptFields = {
  serverId: "s1",
  sessionId: new Uint8Array([0xa0, 0xa1]),
  nonce: new Uint8Array([0xb0]),
  clientNonce: new Uint8Array([0xc0, 0xc1, 0xc2]),
  channelBinding: new Uint8Array(0),
};

const u32 = (n: number) => [0, 0, 0, n];
const ascii = (text: string) => [...new TextEncoder().encode(text)];

describe("authTranscript", () => {
  it("is the SSH-string encoding of label, server id, session id, nonces and binding", () => {
    expect([...authTranscript(fields)]).toEqual([
      ...u32(16),
      ...ascii("syncline-wire-v1"),
      ...u32(2),
      ...ascii("s1"),
      ...u32(2),
      0xa0,
      0xa1,
      ...u32(1),
      0xb0,
      ...u32(3),
      0xc0,
      0xc1,
      0xc2,
      ...u32(0),
    ]);
  });

  it("is deterministic and a fresh buffer each time", () => {
    const first = authTranscript(fields);
    const second = authTranscript({ ...fields, sessionId: fields.sessionId.slice() });
    expect(second).toEqual(first);
    expect(second).not.toBe(first);
  });

  it("is unambiguous: moving bytes between fields changes the transcript", () => {
    const splits: TranscriptFields[] = [
      fields,
      { ...fields, serverId: "s1\u00a0", sessionId: new Uint8Array([0xa1]) },
      { ...fields, sessionId: new Uint8Array([0xa0]), nonce: new Uint8Array([0xa1, 0xb0]) },
      { ...fields, nonce: new Uint8Array([0xb0, 0xc0]), clientNonce: new Uint8Array([0xc1, 0xc2]) },
      {
        ...fields,
        clientNonce: new Uint8Array([0xc0, 0xc1]),
        channelBinding: new Uint8Array([0xc2]),
      },
      { ...fields, serverId: "s", sessionId: new Uint8Array([0x31, 0xa0, 0xa1]) },
    ];
    const encoded = splits.map((split) => Buffer.from(authTranscript(split)).toString("hex"));
    expect(new Set(encoded).size).toBe(splits.length);
  });

  it("covers the channel binding", () => {
    const bound = authTranscript({ ...fields, channelBinding: new Uint8Array(32).fill(1) });
    expect(bound).not.toEqual(authTranscript(fields));
    expect(bound.byteLength).toBe(authTranscript(fields).byteLength + 32);
  });

  it("encodes the server id as UTF-8", () => {
    const bytes = authTranscript({ ...fields, serverId: "é" });
    expect([...bytes.subarray(20, 26)]).toEqual([...u32(2), 0xc3, 0xa9]);
  });
});

describe("hostTranscript", () => {
  it("is the same bytes as the client's, binding included; the namespaces differ", () => {
    const bound = { ...fields, channelBinding: new Uint8Array(32).fill(7) };
    expect(hostTranscript(bound)).toEqual(authTranscript(bound));
    expect(wireTranscriptLabel).toBe("syncline-wire-v1");
    expect(wireAuthNamespace).toBe("syncline-wire-auth@syncline");
    expect(wireHostNamespace).toBe("syncline-wire-host@syncline");
  });
});
