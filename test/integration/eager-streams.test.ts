// Small payloads go whole with their OPEN ("eager" streams) when the receiving end offered open
// credit: one trip per leg instead of waiting for RESUME and CREDIT. Checked on a real server with
// real clients, by what each connection saw on the wire: a payload within the credit goes eagerly
// on both legs, a bigger one takes the usual round trip, the credit comes back with each ACK, and
// a kept eager payload serves later receivers like any other.

import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ChannelClient } from "../../src/channels/channel-client.js";
import type { WireMessage } from "../../src/protocol/wire-messages.js";
import type { TestKey } from "../../src/transport/auth/testing/ssh-keygen.js";
import { defaultOpenCredit } from "../../src/transport/stream/open-credit.js";
import type { WireClient } from "../../src/transport/wire-client.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { createTempDir } from "../helpers/temp-dir.js";
import { clientFor, makeKeys, memorySink, payloadOf, receiveOne } from "../helpers/transport.js";

let dir: { path: string; remove: () => Promise<void> };
let server: TestServer;
let key: TestKey;
let clients: WireClient[] = [];

beforeAll(async () => {
  dir = await createTempDir("syncline-eager-");
  const made = makeKeys(dir.path, ["ed25519"]);
  key = made.keys.ed25519 as TestKey;
  server = await startTestServer({ authorizedKeys: made.authorizedKeys });
});

afterEach(() => {
  for (const client of clients) client.close();
  clients = [];
});

afterAll(async () => {
  await server.stop();
  await dir.remove();
});

/** A connected client, and every message its connection received and sent. */
async function watchedClient() {
  const client = await clientFor(server.server.url, key);
  clients.push(client);
  const { connection } = await client.whenOpen();
  const received: WireMessage[] = [];
  const sent: WireMessage[] = [];
  connection.on("message", (message) => received.push(message));
  const send = connection.send.bind(connection);
  connection.send = (message) => {
    sent.push(message);
    send(message);
  };
  return { client, connection, received, sent };
}

/** Publishes `sizes` one after another to a follower; what both connections saw. */
async function relay(channel: string, sizes: readonly number[]) {
  const sender = await watchedClient();
  const receiver = await watchedClient();
  const arrived: Buffer[] = [];
  const sinks = new Map<string, ReturnType<typeof memorySink>>();
  const receiving = new ChannelClient(receiver.client, { origin: "receiver" }).receive(channel, {
    latest: false,
    accept: (incoming) => {
      const sink = memorySink(incoming.size);
      sinks.set(incoming.transferId, sink);
      return sink;
    },
    until: (received) => {
      arrived.push((sinks.get(received.transferId) as ReturnType<typeof memorySink>).bytes);
      return arrived.length === sizes.length;
    },
  });
  // The subscription must reach the server before the first payload.
  await new Promise((resolve) => setTimeout(resolve, 100));
  const publisher = new ChannelClient(sender.client, { origin: "sender" });
  const sent: Buffer[] = [];
  const receipts = [];
  for (const size of sizes) {
    const { bytes, source } = payloadOf(size);
    sent.push(bytes);
    receipts.push(await publisher.sendWithReceipt(channel, source));
  }
  await receiving;
  return { sender, receiver, sent, arrived, receipts };
}

const ofType = (messages: readonly WireMessage[], type: WireMessage["type"]) =>
  messages.filter((message) => message.type === type);

describe("eager streams", () => {
  it("both ends offer the default open credit in the handshake", async () => {
    const { connection } = await watchedClient();
    expect(connection.eagerSendCredit.limit).toBe(defaultOpenCredit);
    expect(connection.eagerReceiveCredit.limit).toBe(defaultOpenCredit);
  });

  it("a small payload goes whole with its OPEN on both legs: no RESUME, no CREDIT", async () => {
    const { sender, receiver, sent, arrived, receipts } = await relay("eager-small", [1024]);
    expect(arrived[0]?.equals(sent[0] as Buffer)).toBe(true);
    expect(receipts[0]?.kept).toBe(true);
    const senderOpen = ofType(sender.sent, "open")[0];
    expect(senderOpen).toMatchObject({ eager: true, size: 1024 });
    expect(ofType(sender.received, "resume")).toHaveLength(0);
    expect(ofType(sender.received, "credit")).toHaveLength(0);
    expect(ofType(receiver.received, "open")[0]).toMatchObject({ eager: true, size: 1024 });
    expect(ofType(receiver.sent, "resume")).toHaveLength(0);
    expect(ofType(receiver.sent, "credit")).toHaveLength(0);
    expect(ofType(receiver.sent, "ack")).toHaveLength(1);
  });

  it("an empty payload goes eagerly too", async () => {
    const { sender, receiver, arrived } = await relay("eager-empty", [0]);
    expect(ofType(sender.sent, "open")[0]).toMatchObject({ eager: true, size: 0 });
    expect(ofType(receiver.received, "open")[0]).toMatchObject({ eager: true, size: 0 });
    expect(arrived).toHaveLength(1);
    expect(arrived[0]).toHaveLength(0);
  });

  it("a payload over the open credit waits for RESUME and CREDIT as before", async () => {
    const size = defaultOpenCredit + 1;
    const { sender, receiver, sent, arrived } = await relay("eager-big", [size]);
    expect(arrived[0]?.equals(sent[0] as Buffer)).toBe(true);
    expect(ofType(sender.sent, "open")[0]).not.toHaveProperty("eager");
    expect(ofType(sender.received, "resume")).toHaveLength(1);
    expect(ofType(receiver.received, "open")[0]).not.toHaveProperty("eager");
    expect(ofType(receiver.sent, "resume")).toHaveLength(1);
  });

  it("the credit comes back with each ACK: 100 items of 4 KiB (6× the credit) all go eagerly", async () => {
    const sizes = Array.from({ length: 100 }, () => 4096);
    const { sender, receiver, sent, arrived } = await relay("eager-many", sizes);
    expect(arrived.map((bytes) => bytes.toString("hex"))).toEqual(
      sent.map((bytes) => bytes.toString("hex")),
    );
    expect(ofType(sender.sent, "open").every((open) => "eager" in open)).toBe(true);
    expect(ofType(receiver.received, "open").every((open) => "eager" in open)).toBe(true);
    expect(ofType(sender.received, "credit")).toHaveLength(0);
    expect(sender.connection.eagerSendCredit.inUse).toBe(0);
    expect(receiver.connection.eagerReceiveCredit.inUse).toBe(0);
  });

  it("a send that fails on this side keeps its credit until the connection ends, and the next send still goes", async () => {
    const sender = await watchedClient();
    const publisher = new ChannelClient(sender.client, { origin: "sender" });
    const size = 40 * 1024;
    const failing = {
      size,
      read: async () => {
        throw new Error("disk gone");
      },
    };
    await expect(publisher.send("eager-failing", failing)).rejects.toThrow(/disk gone/);
    // The server may still count those bytes (its CANCEL is on the way), so they stay taken here.
    expect(sender.connection.eagerSendCredit.inUse).toBe(size);
    const { bytes, source } = payloadOf(size);
    const receipt = await publisher.sendWithReceipt("eager-failing", source);
    expect(receipt.kept).toBe(true);
    // 40 + 40 KiB do not fit 64 KiB: the second went the usual way, and the connection stayed.
    expect(ofType(sender.sent, "open")[1]).not.toHaveProperty("eager");
    const later = await watchedClient();
    const got = await receiveOne(
      new ChannelClient(later.client, { origin: "later" }),
      "eager-failing",
    );
    expect(got.bytes.equals(bytes)).toBe(true);
  });

  it("a kept eager payload is the channel's latest for a receiver that comes later", async () => {
    const { source, bytes } = payloadOf(2000);
    const sender = await watchedClient();
    const receipt = await new ChannelClient(sender.client, { origin: "sender" }).sendWithReceipt(
      "eager-kept",
      source,
    );
    expect(receipt).toMatchObject({ delivered: 0, kept: true });
    const later = await watchedClient();
    const got = await receiveOne(
      new ChannelClient(later.client, { origin: "later" }),
      "eager-kept",
    );
    expect(got.bytes.equals(bytes)).toBe(true);
    expect(ofType(later.received, "open")[0]).toMatchObject({ eager: true });
  });
});
