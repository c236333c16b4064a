import { describe, expect, it } from "vitest";
import * as ws from "ws";
import { EncodedFrame, serverTextFrame } from "./encoded-frame.js";

/** Parses `bytes` with ws's own client-side receiver and returns the text messages. */
// ws's receiver is not in its type definitions, but it is what every ws client parses with.
const Receiver = (ws as unknown as { Receiver: new (options: object) => ReceiverLike }).Receiver;

interface ReceiverLike {
  on(event: "message", listener: (data: Buffer, isBinary: boolean) => void): void;
  write(chunk: Buffer): void;
}

function receive(bytes: Buffer): string[] {
  const messages: string[] = [];
  const receiver = new Receiver({ isServer: false });
  receiver.on("message", (data: Buffer, isBinary: boolean) => {
    expect(isBinary).toBe(false);
    messages.push(data.toString());
  });
  receiver.write(bytes);
  return messages;
}

describe("serverTextFrame", () => {
  it("uses the 7-bit, 16-bit and 64-bit length forms at their boundaries", () => {
    for (const [length, header] of [
      [0, 2],
      [125, 2],
      [126, 4],
      [65_535, 4],
      [65_536, 10],
      [300_000, 10],
    ] as const) {
      const payload = Buffer.alloc(length, "a");
      const frame = serverTextFrame(payload);
      expect(frame.byteLength, `length ${length}`).toBe(header + length);
      expect(frame[0]).toBe(0x81);
      expect((frame[1] as number) & 0x80).toBe(0); // unmasked
      expect(receive(frame), `length ${length}`).toEqual([payload.toString()]);
    }
  });

  it("carries UTF-8 text as is, and frames back to back parse as separate messages", () => {
    const a = serverTextFrame(Buffer.from('{"text":"héllo 😀"}'));
    const b = serverTextFrame(Buffer.from("{}"));
    expect(receive(Buffer.concat([a, b]))).toEqual(['{"text":"héllo 😀"}', "{}"]);
  });

  it("is built once per EncodedFrame", () => {
    const frame = new EncodedFrame(Buffer.from('{"seq":1}'));
    expect(frame.wire).toBe(frame.wire);
    expect(frame.byteLength).toBe(9);
  });
});
