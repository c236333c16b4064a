import { describe, expect, it } from "vitest";
import type { StreamedBody } from "../util/streamed-body.js";
import { EncodedFrame } from "./encoded-frame.js";
import { catchUpStart, ShareSnapshot, StoredItem } from "./share-snapshot.js";

const item = (key: string, content: unknown) =>
  new StoredItem(key, Buffer.from(JSON.stringify(content)));
const items = [
  item("session/info/s", { id: "s", title: "é 😀" }),
  item("session/part/s/m/p", { id: "p", text: "x".repeat(70_000) }), // a 64-bit length header
  item('weird/"key"', null),
];

/** The body's bytes, checking its byteLength. */
function bytesOf(body: StreamedBody): Buffer {
  const bytes = Buffer.concat([...body.units()].flat());
  expect(bytes.byteLength).toBe(body.byteLength);
  return bytes;
}

/** The texts of the (final, unmasked) WebSocket text frames in `bytes`. */
function framesIn(bytes: Buffer): string[] {
  const texts: string[] = [];
  let at = 0;
  while (at < bytes.byteLength) {
    expect(bytes[at]).toBe(0x81);
    const short = (bytes[at + 1] as number) & 0x7f;
    const header = short === 126 ? 4 : short === 127 ? 10 : 2;
    const length =
      short === 126
        ? bytes.readUInt16BE(at + 2)
        : short === 127
          ? Number(bytes.readBigUInt64BE(at + 2))
          : short;
    texts.push(bytes.subarray(at + header, at + header + length).toString());
    at += header + length;
  }
  return texts;
}

describe("ShareSnapshot", () => {
  it("sends a viewer one {key, content} frame per key (version 1: nothing else)", () => {
    const start = new ShareSnapshot(7, "epoch1", items).viewerStart(1);
    expect(start.frames).toBe(3);
    const frames = framesIn(bytesOf(start.body)).map((text) => JSON.parse(text));
    expect(frames).toEqual(
      items.map((stored) => ({ key: stored.key, content: JSON.parse(stored.content.toString()) })),
    );
  });

  it("ends version 2's full state with {type: state, seq, epoch}", () => {
    const start = new ShareSnapshot(7, "epoch1", items).viewerStart(2);
    expect(start.frames).toBe(4);
    const frames = framesIn(bytesOf(start.body)).map((text) => JSON.parse(text));
    expect(frames.at(-1)).toEqual({ type: "state", seq: 7, epoch: "epoch1" });
    expect(frames.slice(0, -1).map((frame) => frame.key)).toEqual(items.map((s) => s.key));
    const empty = new ShareSnapshot(0, undefined, []).viewerStart(2);
    expect(framesIn(bytesOf(empty.body)).map((text) => JSON.parse(text))).toEqual([
      { type: "state", seq: 0 },
    ]);
    expect(new ShareSnapshot(0, undefined, []).viewerStart(1).frames).toBe(0);
  });

  it("answers /api/share/:id/data as [{type, key, data}]", () => {
    const snapshot = new ShareSnapshot(3, undefined, items);
    expect(JSON.parse(bytesOf(snapshot.dataBody()).toString())).toEqual([
      { type: "session", key: items[0]?.key, data: { id: "s", title: "é 😀" } },
      { type: "part", key: items[1]?.key, data: { id: "p", text: "x".repeat(70_000) } },
      { type: null, key: 'weird/"key"', data: null },
    ]);
    const empty = new ShareSnapshot(0, undefined, []);
    expect(bytesOf(empty.dataBody()).toString()).toBe("[]");
  });

  it("answers /share_data as {info, messages: {id: {...message, parts}}}, parts by id", () => {
    const session = [
      item("session/info/s", { id: "s", title: "t" }),
      item("session/message/s/m1", { id: "m1", role: "user" }),
      item("session/message/s/m2", {}),
      item("session/message/s/v1", { id: "v1", parts: [{ type: "text" }] }),
      item("session/model/s", [{ id: "x" }]),
      item("session/part/s/m1/p1", { id: "p1", messageID: "m1" }),
      item("session/part/s/m1/p2", { id: "p2", messageID: "m1" }),
      item("session/part/s/orphan/p3", { id: "p3", messageID: "orphan" }),
    ];
    expect(
      JSON.parse(bytesOf(new ShareSnapshot(8, undefined, session).sessionBody()).toString()),
    ).toEqual({
      info: { id: "s", title: "t" },
      messages: {
        m1: {
          id: "m1",
          role: "user",
          parts: [
            { id: "p1", messageID: "m1" },
            { id: "p2", messageID: "m1" },
          ],
        },
        m2: { parts: [] },
        v1: { id: "v1", parts: [{ type: "text" }] },
      },
    });
    const empty = new ShareSnapshot(0, undefined, []);
    expect(JSON.parse(bytesOf(empty.sessionBody()).toString())).toEqual({ messages: {} });
  });

  it("encodes each form once and hands every reader the content's own bytes", () => {
    const snapshot = new ShareSnapshot(3, undefined, items);
    expect(snapshot.dataBody()).toBe(snapshot.dataBody());
    expect(snapshot.viewerStart(1).body).toBe(snapshot.viewerStart(1).body);
    const parts = [...snapshot.viewerStart(2).body.units()].flat();
    for (const stored of items) expect(parts).toContain(stored.content);
    expect(snapshot.sessionBody()).toBe(snapshot.sessionBody());
    expect([...snapshot.sessionBody().units()].flat()).toContain(items[0]?.content);
  });

  it("streams catch-up frames as their prebuilt wire bytes", () => {
    const frames = [1, 2].map((seq) => new EncodedFrame(Buffer.from(`{"seq":${seq}}`)));
    const start = catchUpStart(frames);
    expect(start.frames).toBe(2);
    expect([...start.body.units()]).toEqual([[frames[0]?.wire], [frames[1]?.wire]]);
    expect(framesIn(bytesOf(start.body))).toEqual(['{"seq":1}', '{"seq":2}']);
  });
});
