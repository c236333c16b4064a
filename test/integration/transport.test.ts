// The transport against the real server: handshakes with each key type, refusals, channels over
// TCP, TLS and a Unix socket, bad frames, and host-key pinning.

import { createHash } from "node:crypto";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { ChannelClient } from "../../src/channels/channel-client.js";
import { createError } from "../../src/protocol/errors.js";
import { encodeFrame, FrameType } from "../../src/protocol/wire-frame.js";
import { encodeMessage } from "../../src/protocol/wire-messages.js";
import { loadPrivateKey } from "../../src/transport/auth/private-key-file.js";
import type { TestKey } from "../../src/transport/auth/testing/ssh-keygen.js";
import { generateTestKey } from "../../src/transport/auth/testing/ssh-keygen.js";
import { connect } from "../../src/transport/index.js";
import { parseServerAddress } from "../../src/transport/server-address.js";
import { wireUrlOf } from "../../src/transport/wire-address.js";
import { WireClient } from "../../src/transport/wire-client.js";
import type { ServerHostKey } from "../../src/transport/wire-dial.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { createTempDir } from "../helpers/temp-dir.js";
import { createSelfSignedCert } from "../helpers/tls.js";
import {
  clientFor,
  makeKeys,
  memorySink,
  payloadOf,
  receiveOne,
  recordStates,
  waitUntil,
  watchOffers,
} from "../helpers/transport.js";

let dir: { path: string; remove: () => Promise<void> };
let keys: Record<string, TestKey>;
let server: TestServer;
let wire: string;

beforeAll(async () => {
  dir = await createTempDir("syncline-transport-");
  const made = makeKeys(
    dir.path,
    ["ed25519", "ecdsa-256", "ecdsa-384", "rsa"],
    'no-pty,from="127.0.0.1,::1,::ffff:127.0.0.1" ',
  );
  keys = made.keys;
  server = await startTestServer({
    authorizedKeys: made.authorizedKeys,
    unixSocket: join(dir.path, "s.sock"),
  });
  wire = server.server.url;
});

afterAll(async () => {
  await server.stop();
  await dir.remove();
});

function closeOf(socket: WebSocket): Promise<number> {
  return new Promise((resolve) => socket.once("close", (code) => resolve(code)));
}

describe("wire handshake", () => {
  for (const kind of ["ed25519", "ecdsa-256", "ecdsa-384", "rsa"]) {
    it(`authenticates a ${kind} key listed with options`, async () => {
      const client = await clientFor(wire, keys[kind] as TestKey);
      const dialed = await client.whenOpen();
      expect(dialed.peerId).toMatch(/^SHA256:/);
      expect(dialed.serverFingerprint).toBe(server.server.hostFingerprint);
      client.close();
    });
  }

  it("connect(server, auth) resolves the identity from a key file", async () => {
    const client = await connect(server.server.url.replace(/^http/, "ws"), {
      identityFile: (keys["ecdsa-256"] as TestKey).privatePath,
    });
    const dialed = await client.whenOpen();
    expect(dialed.peerId).toMatch(/^SHA256:/);
    client.close();
  });

  it("refuses an unknown key with 4403 and does not retry", async () => {
    const stranger = generateTestKey(dir.path, "ed25519", { name: "stranger" });
    const client = await clientFor(wire, stranger);
    await expect(client.whenOpen()).rejects.toMatchObject({
      code: "ERR_AUTH_NOT_AUTHORIZED",
      closeCode: 4403,
    });
    expect(client.state).toBe("closed");
  });

  it("refuses a server whose host key is not the pinned one", async () => {
    const client = await clientFor(wire, keys.ed25519 as TestKey, {
      serverFingerprint: "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    });
    await expect(client.whenOpen()).rejects.toMatchObject({ code: "ERR_AUTH_HOST_KEY" });
  });

  it("offers several keys in turn until the server accepts one, and starts with that one after", async () => {
    const stranger = generateTestKey(dir.path, "ed25519", { name: "stranger-first" });
    const debug: string[] = [];
    const signers = await Promise.all(
      [stranger, keys.ed25519 as TestKey].map((key) => loadPrivateKey(key.privatePath)),
    );
    const client = new WireClient({
      address: parseServerAddress(wire),
      signer: signers,
      backoff: { initialMs: 50, maxMs: 100 },
      debug: (message) => debug.push(message),
    });
    const first = await client.whenOpen();
    expect(first.signer).toBe(signers[1]);
    expect(debug.filter((line) => line.startsWith("offering"))).toHaveLength(2);
    expect(debug.some((line) => /refused: .*not authorized/.test(line))).toBe(true);
    debug.length = 0;
    first.connection.terminate(); // a lost connection: the reconnect offers the accepted key first
    await waitUntil(() => client.current !== undefined && client.current !== first, "a reconnect");
    expect(debug.filter((line) => line.startsWith("offering"))).toHaveLength(1);
    client.close();
  });

  it("refused every key it offers, says how many it offered, and gives up (4403 is final)", async () => {
    const strangers = ["stranger-a", "stranger-b"].map((name) =>
      generateTestKey(dir.path, "ed25519", { name }),
    );
    const client = new WireClient({
      address: parseServerAddress(wire),
      signer: await Promise.all(strangers.map((key) => loadPrivateKey(key.privatePath))),
    });
    await expect(client.whenOpen()).rejects.toMatchObject({
      code: "ERR_AUTH_NOT_AUTHORIZED",
      closeCode: 4403,
      message: expect.stringContaining("the last of 2 keys offered"),
    });
  });

  it("asks verifyHostKey before authenticating; a refusal there is final", async () => {
    const seen: ServerHostKey[] = [];
    const accepted = await clientFor(wire, keys.ed25519 as TestKey, {
      verifyHostKey: (host) => void seen.push(host),
    });
    await accepted.whenOpen();
    accepted.close();
    expect(seen[0]).toMatchObject({ fingerprint: server.server.hostFingerprint });
    expect(seen[0]?.publicKey).toMatch(/^ssh-ed25519 AAAA\S+$/);
    const refused = await clientFor(wire, keys.ed25519 as TestKey, {
      verifyHostKey: () => {
        throw createError("ERR_AUTH_HOST_KEY", "not the server we know");
      },
    });
    const states = recordStates(refused);
    await expect(refused.whenOpen()).rejects.toMatchObject({ code: "ERR_AUTH_HOST_KEY" });
    expect(states.some((change) => change.to === "reconnecting")).toBe(false);
  });

  it("accepts the right pin", async () => {
    const client = await clientFor(wire, keys.ed25519 as TestKey, {
      serverFingerprint: server.server.hostFingerprint as string,
    });
    await client.whenOpen();
    client.close();
  });
});

describe("bad input on /wire", () => {
  async function raw(): Promise<WebSocket> {
    const socket = new WebSocket(wireUrlOf(wire));
    await new Promise((resolve, reject) => {
      socket.once("open", resolve);
      socket.once("error", reject);
    });
    return socket;
  }

  it("closes 4400 on data before authentication", async () => {
    const socket = await raw();
    const closed = closeOf(socket);
    socket.send(encodeMessage({ type: "subscribe", channel: "x", latest: true, follow: true }));
    expect(await closed).toBe(4400);
  });

  it("closes 4400 on garbage, a text frame, and an unknown frame type", async () => {
    for (const send of [
      (s: WebSocket) => s.send(Buffer.from([1, 2, 3])),
      (s: WebSocket) => s.send("hello"),
      (s: WebSocket) => s.send(Buffer.from([0x7f, 0, 0, 0, 0, 0, 0, 0, 0, 0])),
      (s: WebSocket) =>
        s.send(
          encodeFrame({
            type: FrameType.hello,
            flags: 0,
            streamId: 0,
            payload: Buffer.from([0xff]),
          }),
        ),
    ]) {
      const socket = await raw();
      const closed = closeOf(socket);
      send(socket);
      expect(await closed).toBe(4400);
    }
  });

  it("closes 1009 on a frame over the pre-auth limit", async () => {
    const socket = await raw();
    const closed = closeOf(socket);
    socket.send(Buffer.alloc(20_000));
    expect(await closed).toBe(1009);
  });

  it("keeps serving authenticated clients meanwhile", async () => {
    const client = await clientFor(wire, keys.ed25519 as TestKey);
    await client.whenOpen();
    client.close();
  });
});

describe("channels", () => {
  it("delivers a 5 MiB payload from one device to another with its SHA-256", async () => {
    const sender = new ChannelClient(await clientFor(wire, keys.ed25519 as TestKey), {
      origin: "laptop",
    });
    const receiver = new ChannelClient(await clientFor(wire, keys.rsa as TestKey), {
      origin: "desktop",
    });
    const { bytes, source } = payloadOf(5 * 1024 * 1024 + 123);
    const received = receiveOne(receiver, "clip");
    await new Promise((resolve) => setTimeout(resolve, 100));
    const sha = await sender.send("clip", source);
    const got = await received;
    expect(got.bytes.equals(bytes)).toBe(true);
    expect(got.incoming.origin).toBe("laptop");
    expect(Buffer.from(sha).toString("hex")).toMatch(/^[0-9a-f]{64}$/);
  });

  it("sends an empty payload: the sender gets its ACK, a later receiver gets 0 bytes", async () => {
    const sender = new ChannelClient(await clientFor(wire, keys.ed25519 as TestKey), {
      origin: "laptop",
    });
    const { source } = payloadOf(0);
    const sha = await sender.send("empty-payload", source);
    expect(Buffer.from(sha).toString("hex")).toBe(createHash("sha256").digest("hex"));
    const receiver = new ChannelClient(await clientFor(wire, keys.rsa as TestKey), {
      origin: "desktop",
    });
    const got = await receiveOne(receiver, "empty-payload");
    expect(got.incoming.size).toBe(0);
    expect(got.written).toBe(0);
  });

  it("reads a source with readInto straight into the outgoing frames (read is not used)", async () => {
    const sender = new ChannelClient(await clientFor(wire, keys.ed25519 as TestKey), {
      origin: "laptop",
    });
    const receiver = new ChannelClient(await clientFor(wire, keys.rsa as TestKey), {
      origin: "desktop",
    });
    const { bytes } = payloadOf(12 * 1024 * 1024 + 5);
    const targets = new Set<ArrayBufferLike>();
    let reads = 0;
    const source = {
      size: bytes.length,
      read: async (): Promise<Uint8Array> => {
        throw new Error("read must not be called when readInto is given");
      },
      readInto: async (offset: number, into: Uint8Array) => {
        targets.add(into.buffer);
        reads++;
        return bytes.copy(into, 0, offset, offset + into.length);
      },
    };
    const received = receiveOne(receiver, "clip-into");
    await new Promise((resolve) => setTimeout(resolve, 100));
    // 64 KiB chunks (not the 1 MiB default), so the frame buffers are recycled many times over.
    const sha = await sender.send("clip-into", source, { chunkSize: 64 * 1024 });
    const got = await received;
    expect(got.bytes.equals(bytes)).toBe(true);
    expect(Buffer.from(sha).toString("hex")).toBe(createHash("sha256").update(bytes).digest("hex"));
    // The 193 chunks were read into recycled frame buffers (at most a window's worth in flight
    // at once), not into one new buffer each.
    expect(reads).toBe(193);
    expect(targets.size).toBeLessThan(reads / 2);
  });

  it("keeps the latest payload for a receiver that comes later, and skips a device's own items", async () => {
    const client = await clientFor(wire, keys["ecdsa-256"] as TestKey);
    const phone = new ChannelClient(client, { origin: "phone" });
    const { bytes, source } = payloadOf(1000);
    await phone.send("latest-test", source);
    const later = new ChannelClient(await clientFor(wire, keys["ecdsa-384"] as TestKey), {
      origin: "tablet",
    });
    const got = await receiveOne(later, "latest-test");
    expect(got.bytes.equals(bytes)).toBe(true);
    // The phone itself is not handed its own item back: it waits for someone else's.
    const own = watchOffers(phone, "latest-test");
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(own.offered()).toBe(false);
    client.close();
    await own.waiting;
  });

  it("takes a device's own latest payload with takeOwn; without it, tells onOwnSkipped", async () => {
    const client = await clientFor(wire, keys["ecdsa-256"] as TestKey);
    const phone = new ChannelClient(client, { origin: "phone" });
    const { bytes, source } = payloadOf(700);
    await phone.send("own-test", source);
    const skipped: string[] = [];
    const own = phone.receive("own-test", {
      latest: true,
      accept: () => memorySink(0),
      until: () => true,
      onOwnSkipped: (incoming) => skipped.push(incoming.origin),
    });
    await waitUntil(() => skipped.length === 1, "the own payload to be skipped");
    expect(skipped).toEqual(["phone"]);

    client.close();
    await own;
    // Another run on the same device (same origin), as `recv` without --follow is.
    const again = await clientFor(wire, keys["ecdsa-256"] as TestKey);
    let taken: ReturnType<typeof memorySink> | undefined;
    await new ChannelClient(again, { origin: "phone" }).receive("own-test", {
      latest: true,
      takeOwn: true,
      accept: (incoming) => {
        taken = memorySink(incoming.size);
        return taken;
      },
      until: () => true,
    });
    expect(taken?.bytes.equals(bytes)).toBe(true);
    again.close();
  });

  it("works over TLS with channel binding, and over the Unix socket", async () => {
    const tlsDir = await createTempDir();
    const { certFile, keyFile, cert } = createSelfSignedCert(tlsDir.path);
    const made = makeKeys(tlsDir.path, ["ed25519"]);
    const tls = await startTestServer({
      tlsCert: certFile,
      tlsKey: keyFile,
      authorizedKeys: made.authorizedKeys,
    });
    try {
      const url = tls.server.url;
      const a = new ChannelClient(
        await clientFor(url, made.keys.ed25519 as TestKey, { ca: cert }),
        { origin: "a" },
      );
      const b = new ChannelClient(
        await clientFor(url, made.keys.ed25519 as TestKey, { ca: cert }),
        { origin: "b" },
      );
      const { bytes, source } = payloadOf(300_000);
      await a.send("tls", source);
      expect((await receiveOne(b, "tls")).bytes.equals(bytes)).toBe(true);
    } finally {
      await tls.stop();
      await tlsDir.remove();
    }
    const unixUrl = `unix:${join(dir.path, "s.sock")}`;
    const c = new ChannelClient(await clientFor(unixUrl, keys.ed25519 as TestKey), { origin: "c" });
    const d = new ChannelClient(await clientFor(unixUrl, keys.rsa as TestKey), { origin: "d" });
    const { bytes, source } = payloadOf(70_000);
    await c.send("unix", source);
    expect((await receiveOne(d, "unix")).bytes.equals(bytes)).toBe(true);
  });

  it("refuses /wire with 503 when the server has no authorized_keys", async () => {
    const plain = await startTestServer();
    try {
      const socket = new WebSocket(wireUrlOf(plain.server.url.replace(/^http/, "ws")));
      const status = await new Promise<number>((resolve) =>
        socket.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0)),
      );
      expect(status).toBe(503);
    } finally {
      await plain.stop();
    }
  });
});
