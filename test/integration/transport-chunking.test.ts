// How a client frames a payload on the wire: 1 MiB chunks by default, never bigger than the
// server's announced frame limit (a bigger chunk would be refused with 1009), and a zero masking
// key only where no intermediary can see the frames (a Unix socket, a loopback address).

import type { IncomingMessage } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocketServer } from "ws";
import { ChannelClient, defaultChunkSize } from "../../src/channels/channel-client.js";
import type { OpenMessage } from "../../src/protocol/wire-messages.js";
import { dialWebSocket } from "../../src/transport/dial-websocket.js";
import { isDirectPath, maskOptionsFor } from "../../src/transport/frame-masking.js";
import { parseServerAddress } from "../../src/transport/server-address.js";
import type { WireClient } from "../../src/transport/wire-client.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { createTempDir } from "../helpers/temp-dir.js";
import { clientFor, makeKeys, memorySink, payloadOf } from "../helpers/transport.js";

const MiB = 1024 * 1024;

describe("chunk size of a published payload", () => {
  let dir: { path: string; remove: () => Promise<void> };
  let server: TestServer;
  const clients: WireClient[] = [];
  let key: Parameters<typeof clientFor>[1];

  beforeAll(async () => {
    dir = await createTempDir("syncline-chunking-");
    const made = makeKeys(dir.path, ["ed25519"]);
    key = made.keys.ed25519 as typeof key;
    server = await startTestServer({ authorizedKeys: made.authorizedKeys, spoolBytes: 0 });
  });

  afterAll(async () => {
    for (const client of clients) client.close();
    await server.stop();
    await dir.remove();
  });

  /** Publishes `size` bytes with `chunkSize` (default when undefined) to a follower; its OPEN. */
  async function relay(size: number, chunkSize: number | undefined, channel: string) {
    const [sending, receiving] = await Promise.all([
      clientFor(server.server.url, key),
      clientFor(server.server.url, key),
    ]);
    clients.push(sending, receiving);
    const { connection } = await receiving.whenOpen();
    const opens: OpenMessage[] = [];
    connection.on("message", (message) => {
      if (message.type === "open") opens.push(message);
    });
    const sink = memorySink(size);
    const received = new ChannelClient(receiving, { origin: "receiver" }).receive(channel, {
      latest: false,
      accept: () => sink,
      until: () => true,
    });
    // The subscription must reach the server before the payload starts.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const { bytes, source } = payloadOf(size);
    const sent = new ChannelClient(sending, { origin: "sender" }).send(
      channel,
      source,
      chunkSize === undefined ? {} : { chunkSize },
    );
    await Promise.all([sent, received]);
    expect(Buffer.compare(sink.bytes, bytes)).toBe(0);
    return opens[0] as OpenMessage;
  }

  it("is 1 MiB by default, and the relay keeps it", async () => {
    expect(defaultChunkSize).toBe(MiB);
    const open = await relay(3 * MiB + 5, undefined, "chunk-default");
    expect(open.chunkSize).toBe(MiB);
  });

  it("is capped at the largest DATA payload the server accepts, so a big one is not refused", async () => {
    // The server announces 1 MiB + the 10-byte header; 4 MiB chunks would each close with 1009.
    const open = await relay(9 * MiB, 4 * MiB, "chunk-capped");
    expect(open.chunkSize).toBe(MiB);
  });

  it("a smaller asked size is used as asked", async () => {
    const open = await relay(300 * 1024, 64 * 1024, "chunk-small");
    expect(open.chunkSize).toBe(64 * 1024);
  });
});

describe("the masking key of a client's frames", () => {
  it("is zero to a loopback address, and the payload goes unmasked", async () => {
    const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
    await new Promise<void>((resolve) => wss.once("listening", () => resolve()));
    const port = (wss.address() as AddressInfo).port;
    const raw: Buffer[] = [];
    const accepted = new Promise<void>((resolve) =>
      wss.once("connection", (_socket, request: IncomingMessage) => {
        (request.socket as Socket).on("data", (chunk: Buffer) => raw.push(chunk));
        resolve();
      }),
    );
    const serverGot = new Promise<Buffer>((resolve) =>
      wss.once("connection", (socket) => socket.once("message", (data: Buffer) => resolve(data))),
    );
    const { socket } = await dialWebSocket({
      address: parseServerAddress(`ws://127.0.0.1:${port}`),
      path: "/",
      context: "test",
      timeoutMs: 5000,
      maxPayload: MiB,
    });
    await accepted;
    socket.send(Buffer.from("plain bytes"));
    expect((await serverGot).toString()).toBe("plain bytes");
    const frame = Buffer.concat(raw);
    // A masked frame of 11 bytes: opcode byte, 0x80 | length, a 4-byte key, the payload.
    expect(frame[1]).toBe(0x80 | 11);
    expect([...frame.subarray(2, 6)]).toEqual([0, 0, 0, 0]);
    expect(frame.subarray(6, 17).toString()).toBe("plain bytes");
    socket.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  });

  it("is zero only where nothing sits between the ends", () => {
    const direct = [
      "unix:/run/syncline.sock",
      "ws://127.0.0.1:3040",
      "ws://127.3.4.5:1",
      "wss://localhost:3040",
      "ws://LOCALHOST",
      "ws://[::1]:3040",
      "http://app.localhost:80",
    ];
    const routed = [
      "ws://10.0.0.1:3040",
      "wss://sync.example.org",
      "ws://128.0.0.1:3040",
      "ws://[::2]:3040",
      "ws://localhost.example.org:3040",
      "ws://[::ffff:127.0.0.1]:3040",
    ];
    for (const text of direct) expect(isDirectPath(parseServerAddress(text)), text).toBe(true);
    for (const text of routed) {
      const address = parseServerAddress(text);
      expect(isDirectPath(address), text).toBe(false);
      // ws's default: a fresh random key per frame.
      expect(maskOptionsFor(address), text).toEqual({});
    }
  });
});
