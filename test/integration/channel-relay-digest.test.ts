// Who checks a payload's SHA-256 on the way through the server: the server itself for a payload
// it retains (it serves those bytes later), each subscriber end to end for a relayed one (the
// server keeps none of its bytes and passes the publisher's digest on). A publisher that lies
// about the digest is caught either way, by the server or by every subscriber.

import { createHash, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChannelClient } from "../../src/channels/channel-client.js";
import type { TestKey } from "../../src/transport/auth/testing/ssh-keygen.js";
import { StreamSender } from "../../src/transport/stream/stream-sender.js";
import { runSender } from "../../src/transport/stream-link.js";
import type { WireClient } from "../../src/transport/wire-client.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { createTempDir } from "../helpers/temp-dir.js";
import { clientFor, makeKeys, payloadOf, receiveOne, watchOffers } from "../helpers/transport.js";

const MiB = 1024 * 1024;

let dir: { path: string; remove: () => Promise<void> };
let keys: Record<string, TestKey>;
let server: TestServer;
let wire: string;
const clients: WireClient[] = [];

beforeAll(async () => {
  dir = await createTempDir("syncline-relay-digest-");
  const made = makeKeys(dir.path, ["ed25519", "ecdsa-256"]);
  keys = made.keys;
  // Payloads over 1 MiB are relayed, not kept (no spool).
  server = await startTestServer({
    authorizedKeys: made.authorizedKeys,
    retainBytes: MiB,
    spoolBytes: 0,
  });
  wire = server.server.url;
});

afterAll(async () => {
  for (const client of clients) client.close();
  await server.stop();
  await dir.remove();
});

async function client(key: TestKey): Promise<WireClient> {
  const made = await clientFor(wire, key);
  clients.push(made);
  return made;
}

/** Publishes `bytes` on `channel` as ChannelClient.send does, but with END carrying `sha256`. */
async function publishClaiming(
  publisher: WireClient,
  channel: string,
  bytes: Buffer,
  sha256: Uint8Array,
): Promise<Uint8Array> {
  const { connection } = await publisher.whenOpen();
  const streamId = connection.allocateStreamId();
  const transferId = randomUUID();
  const chunkSize = 64 * 1024;
  connection.send({
    type: "open",
    streamId,
    transferId,
    channel,
    size: bytes.length,
    origin: "liar",
    chunkSize,
  });
  const sender = new StreamSender({
    transferId,
    size: bytes.length,
    chunkSize,
    readChunk: async (offset, length) => bytes.subarray(offset, offset + length),
    knownDigest: async () => sha256,
  });
  return runSender(connection, streamId, sender);
}

/** Waits until the server has registered a follower of `channel` (SUBSCRIBE is async). */
const subscribed = () => new Promise((resolve) => setTimeout(resolve, 150));

describe("SHA-256 of channel payloads through the server", () => {
  it("delivers a relayed payload intact to two subscribers, with the publisher's digest", async () => {
    const sender = new ChannelClient(await client(keys.ed25519 as TestKey), { origin: "a" });
    // The first delivery sends the publisher's frames on with new headers, the second copies
    // them: each must still get every byte in order.
    const receivers = await Promise.all(
      ["b", "c"].map(
        async (origin) => new ChannelClient(await client(keys["ecdsa-256"] as TestKey), { origin }),
      ),
    );
    const { bytes, source } = payloadOf(3 * MiB + 17);
    const received = receivers.map((receiver) => receiveOne(receiver, "relayed-ok"));
    await subscribed();
    const acked = await sender.send("relayed-ok", source);
    for (const got of await Promise.all(received)) expect(got.bytes.equals(bytes)).toBe(true);
    expect(Buffer.from(acked).toString("hex")).toBe(
      createHash("sha256").update(bytes).digest("hex"),
    );
  });

  it("relayed: a wrong digest passes the server and every subscriber refuses it (ERR_STREAM_INTEGRITY)", async () => {
    const receiver = new ChannelClient(await client(keys["ecdsa-256"] as TestKey), {
      origin: "b",
    });
    let written = 0;
    const receiving = receiver.receive("relayed-lie", {
      latest: false,
      accept: () => ({
        async writeChunk(_offset, chunk) {
          written += chunk.length;
        },
      }),
      until: () => true,
    });
    // Settled into a value at once: the refusal may come before the publisher's ACK does.
    const refusal = receiving.then(
      () => undefined,
      (error: unknown) => error,
    );
    await subscribed();
    const { bytes } = payloadOf(3 * MiB);
    const wrong = new Uint8Array(32).fill(7);
    const acked = await publishClaiming(
      await client(keys.ed25519 as TestKey),
      "relayed-lie",
      bytes,
      wrong,
    );
    // The server acknowledges the bytes and passes the claimed digest on unchecked.
    expect(Buffer.from(acked)).toEqual(Buffer.from(wrong));
    expect(await refusal).toMatchObject({ code: "ERR_STREAM_INTEGRITY" });
    expect(written).toBe(bytes.length);
  });

  it("retained: the server itself refuses a wrong digest and keeps nothing", async () => {
    const { bytes } = payloadOf(200 * 1024);
    const wrong = new Uint8Array(32).fill(9);
    const publisher = await client(keys.ed25519 as TestKey);
    // The server's CANCEL names the integrity failure; the publisher sees its transfer cancelled.
    await expect(publishClaiming(publisher, "retained-lie", bytes, wrong)).rejects.toMatchObject({
      code: "ERR_STREAM_CANCELLED",
      message: expect.stringContaining("(ERR_STREAM_INTEGRITY)"),
    });
    // No latest payload was kept: a late receiver asking for it gets nothing within a while.
    const late = new ChannelClient(await client(keys["ecdsa-256"] as TestKey), { origin: "c" });
    const watch = watchOffers(late, "retained-lie");
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(watch.offered()).toBe(false);
    void watch.waiting.catch(() => {});
  });
});
