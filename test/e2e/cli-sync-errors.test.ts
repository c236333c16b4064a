// `syncline sync`'s error paths against mock servers (raw `ws` servers in this process): version
// mismatch, garbage replies, silence, a close mid-sync (with and without recovery), a refused
// token. Each asserts the exit code, the --json error code, and that the limits hold.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import type { IncomingMessage } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { encode } from "cbor-x";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type RawData, WebSocket, WebSocketServer } from "ws";
import { decodeRepoMessage, encodeRepoMessage } from "../../src/protocol/automerge-messages.js";
import { type CliResult, runCliProcess, spawnCli, waitForExit } from "../helpers/cli.js";
import {
  type ReferenceAutomergeServer,
  startReferenceAutomergeServer,
} from "../helpers/reference-automerge-server.js";
import { createTempDir } from "../helpers/temp-dir.js";
import { createSelfSignedCert } from "../helpers/tls.js";
import { waitUntil } from "../helpers/transport.js";

// A valid document id (bs58check of 16 bytes) that no server has.
const documentId = "4NMNnkMhL8jXrdJ9jamS58PAVdXu";

interface Mock {
  readonly url: string;
  /** How many WebSocket connections were made. */
  connections: number;
  /** The request URLs of the upgrades (to see the token). */
  readonly paths: string[];
}

let dir: { path: string; remove: () => Promise<void> };
let reference: ReferenceAutomergeServer;
let devices = 0;
const servers: WebSocketServer[] = [];

beforeAll(async () => {
  dir = await createTempDir("syncline-cli-sync-errors-");
  reference = await startReferenceAutomergeServer();
});

afterEach(async () => {
  for (const server of servers.splice(0)) {
    for (const client of server.clients) client.terminate();
    await new Promise((resolve) => server.close(resolve));
  }
});

afterAll(async () => {
  await reference?.stop();
  await dir?.remove();
});

/** A raw ws server on a free port; `onJoin` runs on each connection's first frame. */
async function startMock(
  onJoin: (socket: WebSocket, join: { senderId: string }, mock: Mock) => void,
  verifyClient?: (request: IncomingMessage) => boolean,
): Promise<Mock> {
  const paths: string[] = [];
  const server = new WebSocketServer({
    port: 0,
    host: "127.0.0.1",
    verifyClient: ({ req }: { req: IncomingMessage }) => {
      paths.push(req.url ?? "");
      return verifyClient?.(req) ?? true;
    },
  });
  servers.push(server);
  await new Promise((resolve) => server.once("listening", resolve));
  const mock: Mock = {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections: 0,
    paths,
  };
  server.on("connection", (socket) => {
    mock.connections += 1;
    socket.once("message", (data: RawData) => {
      const join = decodeRepoMessage(data as Buffer);
      onJoin(socket, join as { senderId: string }, mock);
    });
  });
  return mock;
}

/**
 * Relays a connection (whose join was already read) to the reference server; with `dropAfter`,
 * cuts it once the client has sent that many more frames.
 */
function relay(socket: WebSocket, join: unknown, dropAfter?: number): void {
  const upstream = new WebSocket(reference.url);
  let fromClient = 0;
  const pending: Buffer[] = [encodeRepoMessage(join as never) as Buffer];
  upstream.on("open", () => {
    for (const frame of pending.splice(0)) upstream.send(frame);
  });
  upstream.on("message", (data: RawData) => socket.send(data as Buffer));
  socket.on("message", (data: RawData) => {
    fromClient += 1;
    if (dropAfter !== undefined && fromClient >= dropAfter) {
      socket.terminate();
      upstream.terminate();
      return;
    }
    if (upstream.readyState === WebSocket.OPEN) upstream.send(data as Buffer);
    else pending.push(data as Buffer);
  });
  socket.on("close", () => upstream.terminate());
}

function peer(socket: WebSocket, targetId: string, version = "1"): void {
  socket.send(
    encodeRepoMessage({
      type: "peer",
      senderId: "mock-server",
      peerMetadata: { isEphemeral: false },
      selectedProtocolVersion: version,
      targetId,
    }),
  );
}

function sync(url: string, extra: readonly string[] = []): Promise<CliResult> {
  const home = join(dir.path, `home-${++devices}`);
  mkdirSync(home, { recursive: true });
  const args = ["sync", documentId, "--file", join(home, "doc.automerge"), "--server", url];
  return runCliProcess([...args, "--json", ...extra], {
    env: { HOME: home, XDG_CONFIG_HOME: join(home, ".config"), SYNCLINE_CONFIG: undefined },
    timeoutMs: 20_000,
  });
}

function errorOf(result: CliResult): { code: string; message: string } {
  const parsed = JSON.parse(result.stdout.trim()) as {
    ok: boolean;
    error: { code: string; message: string };
  };
  expect(parsed.ok).toBe(false);
  return parsed.error;
}

describe("protocol errors exit 4", () => {
  it("an error frame answering join (version mismatch)", async () => {
    const mock = await startMock((socket, join) => {
      socket.send(
        encodeRepoMessage({
          type: "error",
          senderId: "mock-server",
          message: "unsupported protocol version",
          targetId: join.senderId,
        }),
      );
      socket.close();
    });
    const result = await sync(mock.url);
    expect(result.code).toBe(4);
    const error = errorOf(result);
    expect(error.code).toBe("ERR_AUTOMERGE_VERSION");
    expect(error.message).toContain("unsupported protocol version");
    expect(mock.connections).toBe(1);
  });

  it("a peer reply selecting another protocol version", async () => {
    const mock = await startMock((socket, join) => peer(socket, join.senderId, "2"));
    const result = await sync(mock.url);
    expect(result.code).toBe(4);
    expect(errorOf(result)).toMatchObject({ code: "ERR_AUTOMERGE_VERSION" });
  });

  it.each([
    ["random bytes", Buffer.from([0xff, 0x00, 0x13, 0x37, 0xde, 0xad])],
    ["CBOR null", encode(null)],
    ["a map without type", encode({ senderId: "x" })],
  ])("garbage instead of peer: %s", async (_name, frame) => {
    const mock = await startMock((socket) => socket.send(frame));
    const result = await sync(mock.url);
    expect(result.code).toBe(4);
    expect(errorOf(result)).toMatchObject({ code: "ERR_AUTOMERGE_MESSAGE" });
    expect(mock.connections).toBe(1);
  });

  it("a text frame", async () => {
    const mock = await startMock((socket) => socket.send("hello"));
    const result = await sync(mock.url);
    expect(result.code).toBe(4);
    expect(errorOf(result)).toMatchObject({ code: "ERR_AUTOMERGE_MESSAGE" });
  });

  it("a sync message whose data is not an Automerge sync message", async () => {
    const mock = await startMock((socket, join) => {
      peer(socket, join.senderId);
      socket.once("message", () =>
        socket.send(
          encodeRepoMessage({
            type: "sync",
            senderId: "mock-server",
            targetId: join.senderId,
            documentId,
            data: new Uint8Array([1, 2, 3, 4]),
          }),
        ),
      );
    });
    const result = await sync(mock.url);
    expect(result.code).toBe(4);
    expect(errorOf(result)).toMatchObject({ code: "ERR_AUTOMERGE_MESSAGE" });
  });
});

describe("silence and lost connections", () => {
  it("silence after connecting: exit 7 within the --timeout", async () => {
    const mock = await startMock(() => {});
    const started = Date.now();
    const result = await sync(mock.url, ["--timeout", "1.5"]);
    const elapsed = Date.now() - started;
    expect(result.code).toBe(7);
    expect(errorOf(result)).toMatchObject({ code: "ERR_TIMEOUT" });
    expect(elapsed).toBeGreaterThanOrEqual(1_500);
    // The limit plus node's start-up, not the 30 s default.
    expect(elapsed).toBeLessThan(5_000);
  });

  it("silence after peer: exit 7, saying it was syncing", async () => {
    const mock = await startMock((socket, join) => peer(socket, join.senderId));
    const result = await sync(mock.url, ["--timeout", "1"]);
    expect(result.code).toBe(7);
    expect(errorOf(result).message).toContain("while syncing");
  });

  it("SIGINT mid-sync: exit 130 at once, the local file untouched", async () => {
    const mock = await startMock((socket, join) => peer(socket, join.senderId));
    const home = join(dir.path, `home-${++devices}`);
    mkdirSync(home, { recursive: true });
    const file = join(home, "doc.automerge");
    const child = spawnCli(["sync", documentId, "--file", file, "--server", mock.url, "--json"], {
      env: { HOME: home, XDG_CONFIG_HOME: join(home, ".config"), SYNCLINE_CONFIG: undefined },
    });
    await waitUntil(() => mock.connections === 1, "the CLI to connect");
    await new Promise((resolve) => setTimeout(resolve, 200));
    child.kill("SIGINT");
    const result = await waitForExit(child, 5_000);
    expect(result.code).toBe(130);
    expect(errorOf(result).message).toContain("SIGINT");
    expect(existsSync(file)).toBe(false);
  });

  it("a close mid-sync every time: retried, then exit 3 (ERR_CONNECTION_CLOSED)", async () => {
    const mock = await startMock((socket, join) => {
      peer(socket, join.senderId);
      socket.once("message", () => socket.terminate());
    });
    const result = await sync(mock.url, ["--retries", "2"]);
    expect(result.code).toBe(3);
    const error = errorOf(result);
    expect(error.code).toBe("ERR_CONNECTION_CLOSED");
    expect(error.message).toContain(mock.url);
    expect(mock.connections).toBe(3);
  });

  it("a close mid-sync once: the retry completes the sync", async () => {
    // A relay to the reference server that drops the first connection mid-sync.
    const mock = await startMock((socket, join, state) =>
      relay(socket, join, state.connections === 1 ? 1 : undefined),
    );
    const handle = reference.repo.create<{ items: string[] }>({ items: ["after-retry"] });
    const home = join(dir.path, `home-${++devices}`);
    mkdirSync(home, { recursive: true });
    const file = join(home, "doc.automerge");
    const result = await runCliProcess(
      ["sync", handle.url, "--file", file, "--server", mock.url, "--json", "--retries", "2"],
      { env: { HOME: home, XDG_CONFIG_HOME: join(home, ".config") }, timeoutMs: 20_000 },
    );
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stderr).toContain("retrying");
    expect(mock.connections).toBe(2);
    const summary = JSON.parse(result.stdout) as { heads: string[] };
    expect(summary.heads).toEqual([...handle.heads()]);
  });
});

describe("access tokens", () => {
  it("sends [sync] token as ?token=; a refusal (HTTP 401) exits 8 without retrying", async () => {
    const mock = await startMock(
      (socket, join) => peer(socket, join.senderId),
      (request) => new URL(request.url ?? "/", "http://x").searchParams.get("token") === "s3cret",
    );
    const home = join(dir.path, `home-${++devices}`);
    mkdirSync(join(home, ".config", "syncline"), { recursive: true });
    writeFileSync(join(home, ".config", "syncline", "config.toml"), '[sync]\ntoken = "wrong"\n');
    const refused = await runCliProcess(
      ["sync", documentId, "--file", join(home, "doc"), "--server", mock.url, "--json"],
      { env: { HOME: home, XDG_CONFIG_HOME: join(home, ".config") }, timeoutMs: 20_000 },
    );
    expect(refused.code).toBe(8);
    expect(errorOf(refused)).toMatchObject({ code: "ERR_UNAUTHORIZED" });
    expect(errorOf(refused).message).not.toContain("wrong");
    expect(mock.paths).toEqual(["/?token=wrong"]);
  });
});

describe("connection failures say what happened", () => {
  it("a host name that does not resolve: exit 3, no retries", async () => {
    const result = await sync("ws://nonexistent-host.invalid:3030", ["--retries", "3"]);
    expect(result.code).toBe(3);
    const error = errorOf(result);
    expect(error.code).toBe("ERR_CONNECT");
    expect(error.message).toContain("name not resolved");
    expect(error.message).toContain("ws://nonexistent-host.invalid:3030");
  });

  it("an untrusted TLS certificate: exit 3 at once with the reason; trusted, the sync works", async () => {
    const tlsDir = join(dir.path, "tls");
    mkdirSync(tlsDir, { recursive: true });
    const cert = createSelfSignedCert(tlsDir);
    const https = createHttpsServer({ cert: cert.cert, key: readFileSync(cert.keyFile) });
    const wss = new WebSocketServer({ server: https });
    servers.push(wss);
    let connections = 0;
    wss.on("connection", (socket) => {
      connections += 1;
      socket.once("message", (data: RawData) => relay(socket, decodeRepoMessage(data as Buffer)));
    });
    await new Promise<void>((resolve) => https.listen(0, "127.0.0.1", resolve));
    const url = `wss://127.0.0.1:${(https.address() as AddressInfo).port}`;
    try {
      const untrusted = await sync(url, ["--retries", "3"]);
      expect(untrusted.code).toBe(3);
      expect(errorOf(untrusted).message).toMatch(/TLS failure: .*self[- ]signed/i);
      expect(untrusted.stderr).not.toContain("retrying");

      const handle = reference.repo.create<{ items: string[] }>({ items: ["over-tls"] });
      const home = join(dir.path, `home-${++devices}`);
      mkdirSync(home, { recursive: true });
      const trusted = await runCliProcess(
        ["sync", handle.url, "--file", join(home, "doc"), "--server", url, "--json"],
        {
          env: {
            HOME: home,
            XDG_CONFIG_HOME: join(home, ".config"),
            NODE_EXTRA_CA_CERTS: cert.certFile,
          },
          timeoutMs: 20_000,
        },
      );
      expect(trusted.code, trusted.stdout + trusted.stderr).toBe(0);
      expect(JSON.parse(trusted.stdout).heads).toEqual([...handle.heads()]);
      expect(connections).toBe(1);
    } finally {
      https.closeAllConnections();
      await new Promise((resolve) => https.close(resolve));
    }
  });
});
