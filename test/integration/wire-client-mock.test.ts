// The reconnecting client's state machine against a scripted mock server (a plain `ws` server
// that answers HELLO however a test says): broken, refusing, silent and version-confused servers,
// and a fully handshaken mock whose pings and closes drive the heartbeat and the retry policy.
// Final refusals (4401/4403/4406) must close the client for good; everything else is retried.

import { randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type WebSocket, WebSocketServer } from "ws";
import { decodeFrame } from "../../src/protocol/wire-frame.js";
import {
  type ChallengeMessage,
  type ClientMessage,
  decodeClientMessage,
  encodeMessage,
  type HelloMessage,
  type WireMessage,
} from "../../src/protocol/wire-messages.js";
import { signHostTranscript } from "../../src/transport/auth/host-signature.js";
import { loadPrivateKey } from "../../src/transport/auth/private-key-file.js";
import type { Signer } from "../../src/transport/auth/signer.js";
import { generateTestKey } from "../../src/transport/auth/testing/ssh-keygen.js";
import { parseServerAddress } from "../../src/transport/server-address.js";
import { WireClient, type WireClientOptions } from "../../src/transport/wire-client.js";
import { createTempDir } from "../helpers/temp-dir.js";
import { recordStates, type TimedStateChange, waitUntil } from "../helpers/transport.js";

/** One client connection as the mock sees it. */
interface MockPeer {
  readonly socket: WebSocket;
  readonly hello: HelloMessage;
  /** Messages the client sent after HELLO, decoded. */
  readonly received: ClientMessage[];
  /** The close code the mock saw (1006 for a cut), once closed. */
  closeCode: number | undefined;
}

/** Runs once per connection, after the client's HELLO arrived. */
type Script = (peer: MockPeer, attempt: number) => void | Promise<void>;

interface MockServer {
  readonly url: string;
  readonly peers: MockPeer[];
}

let dir: { path: string; remove: () => Promise<void> };
let clientSigner: Signer;
let hostSigner: Signer;

beforeAll(async () => {
  dir = await createTempDir("syncline-mock-");
  clientSigner = await loadPrivateKey(generateTestKey(dir.path, "ed25519").privatePath);
  hostSigner = await loadPrivateKey(
    generateTestKey(dir.path, "ed25519", { name: "host_key" }).privatePath,
  );
});

afterAll(async () => {
  await dir.remove();
});

let cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const step of cleanups.reverse()) await step();
  cleanups = [];
});

/** Starts a mock `/wire` server; `refuseWith` answers every upgrade with that HTTP status. */
async function startMock(script: Script, options: { refuseWith?: number } = {}) {
  const { refuseWith } = options;
  const wss = new WebSocketServer({
    host: "127.0.0.1",
    port: 0,
    ...(refuseWith === undefined
      ? {}
      : { verifyClient: (_info, done) => done(false, refuseWith, "refused by the mock") }),
  });
  await new Promise<void>((resolve) => wss.once("listening", resolve));
  const peers: MockPeer[] = [];
  wss.on("connection", (socket) => {
    socket.on("error", () => {});
    let peer: MockPeer | undefined;
    socket.on("close", (code) => {
      if (peer) peer.closeCode = code;
    });
    socket.on("message", (data: Buffer) => {
      const message = decodeClientMessage(decodeFrame(data));
      if (peer) {
        peer.received.push(message);
        return;
      }
      if (message.type !== "hello") throw new Error(`mock: first message was ${message.type}`);
      peer = { socket, hello: message, received: [], closeCode: undefined };
      peers.push(peer);
      void script(peer, peers.length);
    });
  });
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of wss.clients) socket.terminate();
        wss.close(() => resolve());
      }),
  );
  const { port } = wss.address() as AddressInfo;
  return { url: `ws://127.0.0.1:${port}`, peers } satisfies MockServer;
}

/** A client of the mock with fast retries; closed after the test. */
function clientOf(mock: MockServer, options: Partial<WireClientOptions> = {}): WireClient {
  const client = new WireClient({
    address: parseServerAddress(mock.url),
    signer: clientSigner,
    backoff: { initialMs: 20, maxMs: 50 },
    handshakeTimeoutMs: 5000,
    ...options,
  });
  cleanups.push(() => client.close());
  return client;
}

/** What `whenOpen()` settled with: the error it rejected with, or undefined when it opened. */
function failureOf(client: WireClient): Promise<unknown> {
  return client.whenOpen().then(
    () => undefined,
    (error: unknown) => error,
  );
}

function send(peer: MockPeer, message: WireMessage): void {
  peer.socket.send(encodeMessage(message));
}

/** An ERROR frame on stream 0 followed by a close, as a refusing server sends them. */
function refuse(peer: MockPeer, closeCode: number, code: string): void {
  send(peer, { type: "error", streamId: 0, code, message: `mock refuses (${code})` });
  peer.socket.close(closeCode, code);
}

/** A CHALLENGE signed with the mock's host key over this connection's transcript. */
async function challengeFor(
  peer: MockPeer,
  overrides: Partial<ChallengeMessage> = {},
  clientNonce: Uint8Array = peer.hello.clientNonce,
): Promise<ChallengeMessage> {
  const fields = {
    serverId: "mock-server",
    sessionId: randomBytes(16),
    nonce: randomBytes(32),
    clientNonce,
    channelBinding: new Uint8Array(0),
  };
  return {
    type: "challenge",
    version: 1,
    serverId: fields.serverId,
    sessionId: fields.sessionId,
    nonce: fields.nonce,
    expiresInMs: 30_000,
    hostKey: hostSigner.publicKey,
    hostSignature: await signHostTranscript(hostSigner, fields),
    ...overrides,
  };
}

/** The whole server side of the handshake, without checking AUTH: CHALLENGE, AUTH, WELCOME. */
async function handshake(peer: MockPeer, heartbeatMs: number): Promise<void> {
  send(peer, await challengeFor(peer));
  await waitUntil(() => peer.received.some((m) => m.type === "auth"), "the client's AUTH");
  send(peer, { type: "welcome", peerId: "SHA256:mock-peer", heartbeatMs, maxFrameBytes: 65_536 });
}

/** Pings `peer` every `everyMs` until the returned function is called or the socket closes. */
function keepPinging(peer: MockPeer, everyMs: number): () => void {
  const timer = setInterval(() => peer.socket.ping(), everyMs);
  peer.socket.once("close", () => clearInterval(timer));
  return () => clearInterval(timer);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Long enough for several retries at the test backoff (≤ 50 ms), had there been any. */
const noRetryWindowMs = 400;

describe("a broken or confused server during the handshake", () => {
  const garbage: [string, (peer: MockPeer) => void, string][] = [
    [
      "bytes that are no frame",
      (peer) => peer.socket.send(Buffer.from([1, 2, 3])),
      "ERR_WIRE_FRAME",
    ],
    ["a text message", (peer) => peer.socket.send("hello?"), "ERR_WIRE_FRAME"],
    [
      "a frame only clients send (HELLO)",
      (peer) => send(peer, { ...peer.hello }),
      "ERR_WIRE_MESSAGE",
    ],
  ];
  for (const [what, reply, code] of garbage) {
    it(`answers ${what} with an ERROR frame and close 4400, then retries`, async () => {
      const mock = await startMock((peer) => reply(peer));
      const client = clientOf(mock, { maxAttempts: 2 });
      const error = await failureOf(client);
      expect(error).toMatchObject({ code: "ERR_CONNECT", cause: { code, closeCode: 4400 } });
      expect(mock.peers).toHaveLength(2);
      await waitUntil(() => mock.peers[0]?.closeCode !== undefined, "the mock to see the close");
      const first = mock.peers[0] as MockPeer;
      expect(first.closeCode).toBe(4400);
      expect(first.received).toContainEqual(expect.objectContaining({ type: "error", code }));
    });
  }

  it("retries a server that sends WELCOME before CHALLENGE (ERR_WIRE_MESSAGE)", async () => {
    const mock = await startMock((peer) =>
      send(peer, { type: "welcome", peerId: "x", heartbeatMs: 1000, maxFrameBytes: 65_536 }),
    );
    const error = await failureOf(clientOf(mock, { maxAttempts: 2 }));
    expect(error).toMatchObject({
      code: "ERR_CONNECT",
      cause: { code: "ERR_WIRE_MESSAGE", closeCode: 4400 },
    });
    expect(mock.peers).toHaveLength(2);
  });

  it("times out a silent server with ERR_WIRE_TIMEOUT (4408) and retries", async () => {
    const mock = await startMock(() => {});
    const client = clientOf(mock, { maxAttempts: 2, handshakeTimeoutMs: 300 });
    const states = recordStates(client);
    const started = Date.now();
    const error = await failureOf(client);
    expect(error).toMatchObject({
      code: "ERR_CONNECT",
      cause: { code: "ERR_WIRE_TIMEOUT", closeCode: 4408 },
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(2 * 300 - 20);
    expect(mock.peers).toHaveLength(2);
    expect(states.map((change) => change.to)).toEqual(["reconnecting", "connecting", "closed"]);
    expect((states[0] as TimedStateChange).reason).toMatch(/no challenge before the handshake/);
  });

  const cuts: [string, Script, number][] = [
    ["closes with 1011 after HELLO", (peer) => peer.socket.close(1011, "mock broke"), 1011],
    ["drops the TCP connection after HELLO", (peer) => peer.socket.terminate(), 1006],
    [
      "closes with 1001 after the client's AUTH",
      async (peer) => {
        send(peer, await challengeFor(peer));
        await waitUntil(() => peer.received.some((m) => m.type === "auth"), "AUTH");
        peer.socket.close(1001, "going away");
      },
      1001,
    ],
  ];
  for (const [what, script, closeCode] of cuts) {
    it(`retries a server that ${what}`, async () => {
      const mock = await startMock(script);
      const error = await failureOf(clientOf(mock, { maxAttempts: 2 }));
      expect(error).toMatchObject({
        code: "ERR_CONNECT",
        cause: { code: "ERR_CONNECTION_CLOSED", closeCode },
      });
      expect(mock.peers).toHaveLength(2);
    });
  }
});

describe("final refusals are not retried", () => {
  const refusals: [number, string, string][] = [
    [4406, "ERR_WIRE_VERSION", "ERR_WIRE_VERSION"],
    [4403, "ERR_AUTH_NOT_AUTHORIZED", "ERR_AUTH_NOT_AUTHORIZED"],
    [4401, "ERR_AUTH_NONCE", "ERR_AUTH_NONCE"],
    // A code this build does not know (a newer server) still refuses, under a generic code.
    [4403, "ERR_FROM_A_NEWER_SERVER", "ERR_WIRE_REFUSED"],
  ];
  for (const [closeCode, sent, code] of refusals) {
    it(`gives up at once on ERROR ${sent} + close ${closeCode}`, async () => {
      const mock = await startMock((peer) => refuse(peer, closeCode, sent));
      const client = clientOf(mock);
      const states = recordStates(client);
      let failed = 0;
      client.on("failed", () => failed++);
      const error = await failureOf(client);
      expect(error).toMatchObject({ code, closeCode });
      expect(client.state).toBe("closed");
      expect(client.failure).toBe(error);
      await sleep(noRetryWindowMs);
      expect(mock.peers).toHaveLength(1);
      expect(states.map((change) => change.to)).toEqual(["closed"]);
      expect(failed).toBe(1);
      await expect(client.whenOpen()).rejects.toBe(error);
    });
  }

  for (const version of [2, 99]) {
    it(`refuses a CHALLENGE choosing version ${version}, outside the offered 1..1`, async () => {
      const mock = await startMock(async (peer) =>
        send(peer, await challengeFor(peer, { version })),
      );
      const client = clientOf(mock);
      const error = await failureOf(client);
      expect(error).toMatchObject({ code: "ERR_WIRE_VERSION", closeCode: 4406 });
      expect(mock.peers[0]?.hello.versions).toEqual({ min: 1, max: 1 });
      await sleep(noRetryWindowMs);
      expect(mock.peers).toHaveLength(1);
      expect(client.state).toBe("closed");
    });
  }

  it("refuses a host signature over another transcript (a relayed CHALLENGE)", async () => {
    const mock = await startMock(async (peer) =>
      send(peer, await challengeFor(peer, {}, randomBytes(32))),
    );
    const client = clientOf(mock);
    const error = await failureOf(client);
    expect(error).toMatchObject({ code: "ERR_AUTH_SIGNATURE", closeCode: 4401 });
    await sleep(noRetryWindowMs);
    expect(mock.peers).toHaveLength(1);
    // It never signed anything for that server.
    expect(mock.peers[0]?.received.some((m) => m.type === "auth")).toBe(false);
  });

  it("treats HTTP 401 at the upgrade as final and HTTP 503 as transient", async () => {
    const unauthorized = await startMock(() => {}, { refuseWith: 401 });
    const final = clientOf(unauthorized);
    const states = recordStates(final);
    expect(await failureOf(final)).toMatchObject({ code: "ERR_UNAUTHORIZED", status: 401 });
    expect(states.map((change) => change.to)).toEqual(["closed"]);

    const unavailable = await startMock(() => {}, { refuseWith: 503 });
    const transient = clientOf(unavailable, { maxAttempts: 3 });
    const retried = recordStates(transient);
    expect(await failureOf(transient)).toMatchObject({
      code: "ERR_CONNECT",
      cause: { code: "ERR_UPGRADE_REFUSED", status: 503 },
    });
    expect(retried.filter((change) => change.to === "connecting")).toHaveLength(2);
  });
});

describe("after the handshake", () => {
  it("opens with the mock's handshake and uses its announced ping period for the deadline", async () => {
    const heartbeatMs = 300;
    const graceMs = 300;
    const pingingFor = 1200;
    const stops: (() => void)[] = [];
    const mock = await startMock(async (peer) => {
      await handshake(peer, heartbeatMs);
      stops.push(keepPinging(peer, 100));
    });
    const client = clientOf(mock, { graceMs });
    const dialed = await client.whenOpen();
    expect(dialed.heartbeatMs).toBe(heartbeatMs);
    expect(dialed.peerId).toBe("SHA256:mock-peer");
    const states = recordStates(client);

    // Pinged well within the deadline, the connection stays up for several deadlines.
    await sleep(pingingFor);
    expect(states).toEqual([]);
    expect(client.state).toBe("open");

    // Silent past period + grace (600 ms, checked every 75 ms): cut and redialed.
    const silentFrom = Date.now();
    stops[0]?.();
    await waitUntil(() => states.some((change) => change.to === "reconnecting"), "a drop");
    const dropped = (states[0] as TimedStateChange).at - silentFrom;
    // Not before the deadline counted from the last ping (at most ~100 ms before the silence).
    expect(dropped).toBeGreaterThanOrEqual((heartbeatMs + graceMs) / 2);
    expect(dropped).toBeLessThan(heartbeatMs + graceMs + 1500);
    await waitUntil(() => client.state === "open", "the reconnect");
    expect(mock.peers).toHaveLength(2);
    // The mock saw the first connection cut (terminate), not closed politely.
    await waitUntil(() => mock.peers[0]?.closeCode !== undefined, "the mock to see the cut");
    expect(mock.peers[0]?.closeCode).toBe(1006);
  });

  it("reconnects after a server's 1001 but stays closed after a 4403 (a revoked key)", async () => {
    const mock = await startMock(async (peer, attempt) => {
      await handshake(peer, 20_000);
      await sleep(50);
      if (attempt === 1) peer.socket.close(1001, "server restarting");
      else refuse(peer, 4403, "ERR_AUTH_NOT_AUTHORIZED");
    });
    const client = clientOf(mock);
    const states = recordStates(client);
    let failure: unknown;
    client.on("failed", (error) => {
      failure = error;
    });
    await waitUntil(() => client.state === "closed", "the client to close");
    expect(states.map((change) => change.to)).toEqual([
      "open",
      "reconnecting",
      "connecting",
      "open",
      "closed",
    ]);
    expect(failure).toMatchObject({ code: "ERR_CONNECTION_CLOSED", closeCode: 4403 });
    expect(client.failure).toBe(failure);
    await sleep(noRetryWindowMs);
    expect(mock.peers).toHaveLength(2);
  });

  it("counts a connection that flaps before stableAfterMs as a failed attempt", async () => {
    const mock = await startMock(async (peer) => {
      await handshake(peer, 20_000);
      await sleep(20);
      peer.socket.close(1001, "flap");
    });
    const client = clientOf(mock, { maxAttempts: 3, stableAfterMs: 5000 });
    const states = recordStates(client);
    await waitUntil(() => client.state === "closed", "the client to give up");
    expect(client.failure).toMatchObject({
      code: "ERR_CONNECT",
      cause: { code: "ERR_CONNECTION_CLOSED", closeCode: 1001 },
    });
    expect(states.filter((change) => change.to === "open")).toHaveLength(3);
    expect(mock.peers).toHaveLength(3);
  });
});
