// Attacks on eager streams (OPEN, DATA and END sent at once within the open credit): a raw client
// that pushes more than it was offered, in one stream or over several, or more than one frame,
// is cut with ERR_STREAM_PROTOCOL and the server goes on serving others; DATA beyond its OPEN's
// size cancels that stream only; a client that offered no open credit (an older one) never gets
// an eager OPEN.

import { createHash, randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChannelClient } from "../../src/channels/channel-client.js";
import type { ClientMessage } from "../../src/protocol/wire-messages.js";
import { loadPrivateKey } from "../../src/transport/auth/private-key-file.js";
import type { TestKey } from "../../src/transport/auth/testing/ssh-keygen.js";
import { defaultOpenCredit } from "../../src/transport/stream/open-credit.js";
import { openRawWire, type RawWire, rawAuth, rawHello } from "../helpers/raw-wire.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { createTempDir } from "../helpers/temp-dir.js";
import { clientFor, makeKeys, payloadOf, receiveOne } from "../helpers/transport.js";

let dir: { path: string; remove: () => Promise<void> };
let server: TestServer;
let key: TestKey;

beforeAll(async () => {
  dir = await createTempDir("syncline-eager-attacks-");
  const made = makeKeys(dir.path, ["ed25519"]);
  key = made.keys.ed25519 as TestKey;
  server = await startTestServer({ authorizedKeys: made.authorizedKeys });
});

afterAll(async () => {
  await server.stop();
  await dir.remove();
});

/** A raw connection through WELCOME, offering `openCredit` in its HELLO when given. */
async function authenticated(openCredit?: number): Promise<RawWire> {
  const raw = await openRawWire(server.server.url);
  const challenge = await rawHello(raw, openCredit);
  raw.send(await rawAuth(challenge, await loadPrivateKey(key.privatePath)));
  await raw.next("welcome", undefined, 3000);
  return raw;
}

/** OPEN (eager), DATA and END of `bytes` on `streamId`, as one eager stream sends them. */
function eagerStream(
  streamId: number,
  channel: string,
  bytes: Uint8Array,
  chunkSize = 1024 * 1024,
): ClientMessage[] {
  const sha256 = createHash("sha256").update(bytes).digest();
  return [
    {
      type: "open",
      streamId,
      transferId: `eager-${channel}-${streamId}`,
      channel,
      size: bytes.length,
      origin: "raw",
      chunkSize,
      eager: true,
    },
    { type: "data", streamId, bytes, fin: true },
    { type: "end", streamId, size: bytes.length, sha256 },
  ];
}

/** The ERROR a raw connection got before it closed, and the close code. */
async function refusalOf(raw: RawWire) {
  const closed = await raw.closed;
  const error = raw.received.find((message) => message.type === "error");
  return { code: closed.code, error: error?.type === "error" ? error : undefined };
}

/** The server still relays a payload between two well-behaved clients. */
async function stillServes(channel: string): Promise<void> {
  const client = await clientFor(server.server.url, key);
  try {
    const { bytes, source } = payloadOf(3000);
    await new ChannelClient(client, { origin: "well-behaved" }).send(channel, source);
    const got = await receiveOne(new ChannelClient(client, { origin: "another" }), channel);
    expect(got.bytes.equals(bytes)).toBe(true);
  } finally {
    client.close();
  }
}

describe("eager streams under attack", () => {
  it("an honest eager stream from a raw client is acknowledged", async () => {
    const raw = await authenticated();
    raw.sendTogether(eagerStream(1, "eager-honest", randomBytes(500)));
    const ack = await raw.next("ack", (message) => message.streamId === 1, 3000);
    expect(ack.kept).toBe(true);
    expect(raw.received.some((message) => message.type === "credit")).toBe(false);
    raw.close();
  });

  it("one eager OPEN bigger than the open credit is cut with ERR_STREAM_PROTOCOL", async () => {
    const raw = await authenticated();
    raw.sendTogether(eagerStream(1, "eager-huge", randomBytes(defaultOpenCredit + 1)));
    const { code, error } = await refusalOf(raw);
    expect(error?.code).toBe("ERR_STREAM_PROTOCOL");
    expect(error?.message).toContain("exceeds the open credit");
    expect(code).toBe(4400);
    await stillServes("eager-after-huge");
  });

  it("eager OPENs that together pass the credit, sent without waiting for ACKs, are cut", async () => {
    const raw = await authenticated();
    const third = Math.floor(defaultOpenCredit / 3) + 1;
    raw.sendTogether([
      ...eagerStream(1, "eager-flood", randomBytes(third)),
      ...eagerStream(3, "eager-flood", randomBytes(third)),
      ...eagerStream(5, "eager-flood", randomBytes(third)),
    ]);
    const { error } = await refusalOf(raw);
    expect(error?.code).toBe("ERR_STREAM_PROTOCOL");
    expect(error?.message).toContain("stream 5");
    await stillServes("eager-after-flood");
  });

  it("an eager payload bigger than its own chunk size (more than one frame) is cut", async () => {
    const raw = await authenticated();
    raw.sendTogether(eagerStream(1, "eager-chunks", randomBytes(4000), 1000));
    const { error } = await refusalOf(raw);
    expect(error?.code).toBe("ERR_STREAM_PROTOCOL");
    expect(error?.message).toContain("more than its chunk size 1000");
  });

  it("eager DATA beyond the size its OPEN announced cancels the stream, and its credit returns", async () => {
    const raw = await authenticated();
    const [open, , end] = eagerStream(1, "eager-liar", randomBytes(100));
    raw.sendTogether([
      open as ClientMessage,
      { type: "data", streamId: 1, bytes: randomBytes(5000), fin: true },
      end as ClientMessage,
    ]);
    const cancel = await raw.next("cancel", (message) => message.streamId === 1, 3000);
    expect(cancel.code).toBe("ERR_STREAM_PROTOCOL");
    // The 100 bytes it took are back: a stream using the whole credit is accepted next.
    raw.sendTogether(eagerStream(3, "eager-liar", randomBytes(defaultOpenCredit)));
    const ack = await raw.next("ack", (message) => message.streamId === 3, 3000);
    expect(ack.transferId).toBe("eager-eager-liar-3");
    raw.close();
  });

  it("a client that offered no open credit gets OPEN, then DATA only after its CREDIT", async () => {
    const raw = await authenticated();
    raw.send({ type: "subscribe", channel: "eager-old", latest: false, follow: true });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const publisher = await clientFor(server.server.url, key);
    const { bytes, source } = payloadOf(700);
    const sending = new ChannelClient(publisher, { origin: "publisher" }).send("eager-old", source);
    const open = await raw.next("open", (message) => message.channel === "eager-old", 3000);
    expect(open).not.toHaveProperty("eager");
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(raw.received.some((message) => message.type === "data")).toBe(false);
    raw.send({ type: "resume", streamId: open.streamId, transferId: open.transferId, offset: 0 });
    raw.send({ type: "credit", streamId: open.streamId, bytes: open.size });
    const data = await raw.next("data", (message) => message.streamId === open.streamId, 3000);
    expect(Buffer.from(data.bytes).equals(bytes)).toBe(true);
    const end = await raw.next("end", (message) => message.streamId === open.streamId, 3000);
    raw.send({
      type: "ack",
      streamId: open.streamId,
      transferId: open.transferId,
      sha256: end.sha256,
    });
    await sending;
    publisher.close();
    raw.close();
  });
});
