// The stream binding over a real WebSocket pair (both ends wrapped in WireConnection): when the
// sending end gives a stream up for a reason that is not a stream error — a relay whose upload
// ended with a wire error, a payload source that threw — the receiving end must hear a CANCEL,
// not wait for the rest of the stream for as long as the connection lives.

import { createHash } from "node:crypto";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import { createError } from "../../src/protocol/errors.js";
import type { WireMessage } from "../../src/protocol/wire-messages.js";
import { StreamReceiver } from "../../src/transport/stream/stream-receiver.js";
import { StreamSender } from "../../src/transport/stream/stream-sender.js";
import { runReceiver, runSender } from "../../src/transport/stream-link.js";
import { WireConnection } from "../../src/transport/wire-connection.js";

const maxFrameBytes = 1024 * 1024 + 64;
let cleanup: (() => Promise<void>) | undefined;

afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

/** A server-side and a client-side WireConnection over one loopback WebSocket. */
async function connectedPair(): Promise<{ server: WireConnection; client: WireConnection }> {
  const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  await new Promise<void>((resolve) => wss.once("listening", () => resolve()));
  const accepted = new Promise<WebSocket>((resolve) => wss.once("connection", resolve));
  const socket = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
  await new Promise<void>((resolve, reject) => {
    socket.once("open", () => resolve());
    socket.once("error", reject);
  });
  const server = new WireConnection(await accepted, { role: "server", maxFrameBytes });
  const client = new WireConnection(socket, { role: "client", maxFrameBytes });
  cleanup = async () => {
    client.terminate();
    server.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  };
  return { server, client };
}

/** Runs a sender whose source fails on its second chunk with `failure`; returns what the peer got. */
async function cancelSeenByPeer(failure: Error): Promise<WireMessage> {
  const { server, client } = await connectedPair();
  const streamId = server.allocateStreamId();
  const cancel = new Promise<WireMessage>((resolve) => {
    client.on("message", (message) => {
      if (message.type === "cancel" && message.streamId === streamId) resolve(message);
    });
  });
  const chunkSize = 64 * 1024;
  const sender = new StreamSender({
    transferId: "t-1",
    size: 4 * chunkSize,
    chunkSize,
    readChunk: async (offset, length) => {
      if (offset > 0) throw failure;
      return new Uint8Array(length);
    },
  });
  const sending = runSender(server, streamId, sender);
  client.send({ type: "credit", streamId, bytes: 4 * chunkSize });
  await expect(sending).rejects.toBe(failure);
  return cancel;
}

describe("stream link: giving a stream up", () => {
  it("sends CANCEL (ERR_STREAM_CANCELLED, naming the cause) when the source fails with a non-stream error", async () => {
    const cause = createError("ERR_WIRE_FRAME", "wire: the publisher's frame was malformed");
    const message = await cancelSeenByPeer(cause);
    expect(message).toMatchObject({ type: "cancel", code: "ERR_STREAM_CANCELLED" });
    expect((message as { message: string }).message).toContain("publisher's frame was malformed");
  });

  it("sends CANCEL for a plain Error thrown by the source", async () => {
    const message = await cancelSeenByPeer(new Error("disk gone"));
    expect(message).toMatchObject({ type: "cancel", code: "ERR_STREAM_CANCELLED" });
    expect((message as { message: string }).message).toContain("disk gone");
  });

  it("passes a stream error on with its own code", async () => {
    const cause = createError("ERR_STREAM_SOURCE", "stream t-1: the source returned 3 bytes");
    const message = await cancelSeenByPeer(cause);
    expect(message).toMatchObject({ type: "cancel", code: "ERR_STREAM_SOURCE" });
  });
});

describe("stream link: an empty payload", () => {
  it("completes on both ends: END needs no credit, so it crosses the receiver's RESUME", async () => {
    const { server, client } = await connectedPair();
    const streamId = server.allocateStreamId();
    const empty = new Uint8Array(createHash("sha256").digest());
    const sender = new StreamSender({
      transferId: "t-empty",
      size: 0,
      readChunk: async () => {
        throw new Error("an empty payload has nothing to read");
      },
    });
    const receiver = new StreamReceiver({
      transferId: "t-empty",
      size: 0,
      writeChunk: async () => {
        throw new Error("an empty payload has nothing to write");
      },
    });
    // The receiver starts when OPEN arrives, as ChannelClient and the hub do; the sender at once.
    const received = runReceiver(client, streamId, receiver);
    const sent = runSender(server, streamId, sender);
    await expect(sent).resolves.toEqual(empty);
    await expect(received).resolves.toEqual(empty);
    expect(sender.state).toBe("acked");
  });
});
