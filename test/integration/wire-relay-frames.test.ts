// A relay sends a received DATA payload on in the frame it arrived in: the first sender rewrites
// that frame's header in place (no copy), any later sender of the same payload copies it, so two
// subscribers of one publisher's chunk each get a whole, correct frame of their own stream.

import { randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import { decodeFrame, FrameFlag, FrameType } from "../../src/protocol/wire-frame.js";
import type { DataMessage, WireMessage } from "../../src/protocol/wire-messages.js";
import { takeReceivedFrame } from "../../src/transport/received-frames.js";
import { WireConnection } from "../../src/transport/wire-connection.js";

const maxFrameBytes = 1024 * 1024 + 64;
let cleanup: (() => Promise<void>) | undefined;

afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

interface Link {
  /** The client's end. */
  readonly client: WireConnection;
  /** The server's end, and its raw WebSocket (to see the very buffers ws hands over). */
  readonly server: WireConnection;
  readonly serverSocket: WebSocket;
}

/** `count` client connections to one loopback WebSocket server, each wrapped at both ends. */
async function links(count: number): Promise<Link[]> {
  const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  await new Promise<void>((resolve) => wss.once("listening", () => resolve()));
  const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
  const made: Link[] = [];
  for (let i = 0; i < count; i++) {
    const accepted = new Promise<WebSocket>((resolve) => wss.once("connection", resolve));
    const socket = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      socket.once("open", () => resolve());
      socket.once("error", reject);
    });
    const serverSocket = await accepted;
    made.push({
      client: new WireConnection(socket, { role: "client", maxFrameBytes }),
      server: new WireConnection(serverSocket, { role: "server", maxFrameBytes }),
      serverSocket,
    });
  }
  cleanup = async () => {
    for (const link of made) {
      link.client.terminate();
      link.server.terminate();
    }
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  };
  return made;
}

function nextData(connection: WireConnection): Promise<DataMessage> {
  return new Promise((resolve) => {
    const off = connection.on("message", (message: WireMessage) => {
      if (message.type !== "data") return;
      off();
      resolve(message);
    });
  });
}

describe("relaying a received DATA frame", () => {
  it("the first sender reuses the frame (header rewritten in place), the next one copies", async () => {
    const [publisher, first, second] = (await links(3)) as [Link, Link, Link];
    const payload = randomBytes(64 * 1024);
    const arrivedRaw = new Promise<Buffer>((resolve) =>
      publisher.serverSocket.once("message", (data: Buffer) => resolve(data)),
    );
    const arrived = nextData(publisher.server);
    await publisher.client.sendData(1, payload, false);
    const [raw, message] = await Promise.all([arrivedRaw, arrived]);

    const toFirst = nextData(first.client);
    const toSecond = nextData(second.client);
    await first.server.sendData(2, message.bytes, true);
    // The frame ws handed over now carries the first delivery's header: it was sent as it is.
    expect(decodeFrame(raw)).toMatchObject({ type: FrameType.data, streamId: 2 });
    expect(decodeFrame(raw).flags).toBe(FrameFlag.fin);
    await second.server.sendData(4, message.bytes, false);
    // The second delivery copied: the first one's frame (maybe still queued) is untouched.
    expect(decodeFrame(raw)).toMatchObject({ streamId: 2, flags: FrameFlag.fin });

    const [a, b] = await Promise.all([toFirst, toSecond]);
    expect(a).toMatchObject({ streamId: 2, fin: true });
    expect(b).toMatchObject({ streamId: 4, fin: false });
    expect(Buffer.from(a.bytes).equals(payload)).toBe(true);
    expect(Buffer.from(b.bytes).equals(payload)).toBe(true);
  });

  it("a client end does not offer what it receives for reuse", async () => {
    const [link, other] = (await links(2)) as [Link, Link];
    const payload = randomBytes(1000);
    const arrived = nextData(link.client);
    await link.server.sendData(2, payload, false);
    const message = await arrived;
    // Only the server remembers received frames (it is the one that relays).
    expect(takeReceivedFrame(message.bytes)).toBeUndefined();
    const relayed = nextData(other.server);
    await other.client.sendData(1, message.bytes, true);
    const got = await relayed;
    expect(Buffer.from(got.bytes).equals(payload)).toBe(true);
    expect(Buffer.from(message.bytes).equals(payload)).toBe(true);
  });
});
