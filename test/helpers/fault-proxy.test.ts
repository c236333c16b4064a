// Checks the fault proxy against real sockets: faithful forwarding, then each fault on its own.

import { randomBytes } from "node:crypto";
import { connect, createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import { type FaultProxy, type FaultProxyTarget, startFaultProxy } from "./fault-proxy.js";
import { createTempDir } from "./temp-dir.js";

const MiB = 1024 * 1024;

/** Teardown steps for the current test, run in reverse order. */
let cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const step of cleanups.reverse()) await step();
  cleanups = [];
});

/** A TCP (or Unix) server for the proxy to front, remembering every socket it accepted. */
interface Target {
  readonly address: FaultProxyTarget;
  readonly sockets: Socket[];
}

async function startTarget(
  onSocket: (socket: Socket) => void,
  listen: { path: string } | { port: 0; host: string } = { port: 0, host: "127.0.0.1" },
): Promise<Target> {
  const sockets: Socket[] = [];
  const server: Server = createServer((socket) => {
    socket.on("error", () => {}); // the proxy resets these on purpose
    sockets.push(socket);
    onSocket(socket);
  });
  await new Promise<void>((resolve) => server.listen(listen, resolve));
  cleanups.push(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  const bound = server.address();
  const address =
    "path" in listen || bound === null || typeof bound === "string"
      ? { path: (listen as { path: string }).path }
      : { host: "127.0.0.1", port: bound.port };
  return { address, sockets };
}

/** A target that echoes every byte back and ends when the client ends. */
const startEcho = (listen?: { path: string }) =>
  startTarget((socket) => socket.pipe(socket), listen);

async function startProxy(target: FaultProxyTarget): Promise<FaultProxy> {
  const proxy = await startFaultProxy({ target });
  cleanups.push(() => proxy.close());
  return proxy;
}

/** A client socket that records what it receives and how it ended. */
interface Client {
  readonly socket: Socket;
  readonly received: () => Buffer;
  readonly bytes: () => number;
  /** Resolves once `n` bytes have arrived; rejects if the socket closes first. */
  readonly waitFor: (n: number) => Promise<Buffer>;
  readonly closed: Promise<void>;
}

function dialProxy(port: number, host = "127.0.0.1"): Promise<Client> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const chunks: Buffer[] = [];
    let bytes = 0;
    let isClosed = false;
    const waiters = new Set<() => void>();
    const closed = new Promise<void>((r) => socket.once("close", () => r()));
    cleanups.push(() => {
      socket.destroy();
    });
    socket.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      bytes += chunk.length;
      for (const wake of waiters) wake();
    });
    socket.once("close", () => {
      isClosed = true;
      for (const wake of waiters) wake();
    });
    const received = () => Buffer.concat(chunks);
    const waitFor = (n: number) =>
      new Promise<Buffer>((ok, fail) => {
        const check = () => {
          if (bytes >= n) ok(received());
          else if (isClosed) fail(new Error(`client: closed after ${bytes} of ${n} bytes`));
          else return;
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    socket.once("connect", () => {
      socket.off("error", reject);
      socket.on("error", () => {}); // resets are the point of these tests; 'close' reports them
      resolve({ socket, received, bytes: () => bytes, waitFor, closed });
    });
    socket.once("error", reject);
  });
}

describe("fault proxy", { timeout: 5_000 }, () => {
  it("forwards 10 MiB both ways byte for byte", async () => {
    const proxy = await startProxy((await startEcho()).address);
    const client = await dialProxy(proxy.port);
    const payload = randomBytes(10 * MiB);
    client.socket.write(payload);
    const echoed = await client.waitFor(payload.length);
    expect(echoed.equals(payload)).toBe(true);
    expect(proxy.bytesForwarded).toEqual({ up: payload.length, down: payload.length });
    expect(proxy.connections).toBe(1);
    client.socket.end();
    await client.closed;
    await expect.poll(() => proxy.connections).toBe(0);
  });

  it("forwards to a Unix socket target and cuts it too", async () => {
    const dir = await createTempDir("fault-proxy-");
    cleanups.push(dir.remove);
    const proxy = await startProxy(
      (await startEcho({ path: join(dir.path, "echo.sock") })).address,
    );
    const client = await dialProxy(proxy.port);
    client.socket.write("over a pipe");
    expect((await client.waitFor(11)).toString()).toBe("over a pipe");
    expect(proxy.cutAll()).toBe(1);
    await client.closed;
  });

  it("applies backpressure instead of buffering a slow reader's data", async () => {
    const total = 64 * MiB;
    const target = await startTarget((socket) => socket.end(Buffer.alloc(total, 7)));
    const proxy = await startProxy(target.address);
    const client = await dialProxy(proxy.port);
    client.socket.pause();
    await sleep(300);
    // The proxy stopped reading, so most of the 64 MiB still waits in the target's own buffer;
    // without backpressure the proxy would have drained it into its memory in a few ms.
    expect(target.sockets[0]?.writableLength).toBeGreaterThan(total / 2);
    expect(proxy.bytesForwarded.down).toBeLessThan(total / 2);
    client.socket.resume();
    await client.waitFor(total);
    await client.closed;
    expect(client.bytes()).toBe(total);
  });

  it("cutAll closes both sides mid-transfer", async () => {
    const target = await startEcho();
    const proxy = await startProxy(target.address);
    const client = await dialProxy(proxy.port);
    const total = 32 * MiB;
    client.socket.write(Buffer.alloc(total, 1));
    await client.waitFor(MiB);
    expect(proxy.cutAll()).toBe(1);
    await client.closed;
    const upstream = target.sockets[0] as Socket;
    if (!upstream.closed) await new Promise((resolve) => upstream.once("close", resolve));
    expect(client.bytes()).toBeLessThan(total);
    await expect.poll(() => proxy.connections).toBe(0);
  });

  it("cutAfter cuts once exactly that many bytes passed, then lets a reconnect through", async () => {
    const proxy = await startProxy((await startEcho()).address);
    proxy.cutAfter(MiB);
    const first = await dialProxy(proxy.port);
    first.socket.write(Buffer.alloc(4 * MiB, 2));
    await first.closed;
    expect(proxy.bytesForwarded.down).toBe(MiB);
    expect(first.bytes()).toBeLessThanOrEqual(MiB);

    const second = await dialProxy(proxy.port);
    const payload = randomBytes(2 * MiB);
    second.socket.write(payload);
    expect((await second.waitFor(payload.length)).equals(payload)).toBe(true);
    expect(second.socket.destroyed).toBe(false);
  });

  it("blackhole drops data but keeps sockets open; turning it off serves new connections", async () => {
    const target = await startEcho();
    const proxy = await startProxy(target.address);
    const client = await dialProxy(proxy.port);
    client.socket.write(Buffer.alloc(64 * 1024, 3));
    await client.waitFor(64 * 1024); // a full round trip, so nothing is in flight below
    const upBefore = proxy.bytesForwarded.up;

    proxy.blackhole();
    client.socket.write(Buffer.alloc(64 * 1024, 4));
    const dark = await dialProxy(proxy.port); // accepted, but never reaches the target
    dark.socket.write("hello?");
    await sleep(300);
    expect(client.bytes()).toBe(64 * 1024);
    expect(proxy.bytesForwarded.up).toBe(upBefore);
    expect(dark.bytes()).toBe(0);
    expect(target.sockets).toHaveLength(1);
    expect(client.socket.destroyed).toBe(false);
    expect(dark.socket.destroyed).toBe(false);
    expect(target.sockets[0]?.destroyed).toBe(false);
    expect(proxy.connections).toBe(2);

    proxy.blackhole(false);
    const fresh = await dialProxy(proxy.port);
    fresh.socket.write("back");
    expect((await fresh.waitFor(4)).toString()).toBe("back");
    expect(client.bytes()).toBe(64 * 1024); // the old pair stays dark
  });

  it("refuse closes the port (ECONNREFUSED) and reopens the same port", async () => {
    const proxy = await startProxy((await startEcho()).address);
    const port = proxy.port;
    const live = await dialProxy(port);

    await proxy.refuse();
    await expect(dialProxy(port)).rejects.toMatchObject({ code: "ECONNREFUSED" });
    live.socket.write("still here");
    expect((await live.waitFor(10)).toString()).toBe("still here");

    await proxy.refuse(false);
    expect(proxy.port).toBe(port);
    const again = await dialProxy(port);
    again.socket.write("again");
    expect((await again.waitFor(5)).toString()).toBe("again");
  });

  it("delay adds at least the configured latency each way and keeps order", async () => {
    const proxy = await startProxy((await startEcho()).address);
    const client = await dialProxy(proxy.port);
    proxy.delay(100);
    let start = performance.now();
    client.socket.write("x");
    await client.waitFor(1);
    expect(performance.now() - start).toBeGreaterThanOrEqual(200);

    // Lowering the delay must not let a later chunk overtake an earlier one.
    proxy.delay(150);
    start = performance.now();
    client.socket.write("a");
    await sleep(10);
    proxy.delay(0);
    client.socket.write("b");
    expect((await client.waitFor(3)).toString()).toBe("xab");
    expect(performance.now() - start).toBeGreaterThanOrEqual(150);
  });

  it("throttle caps throughput per direction", async () => {
    const proxy = await startProxy((await startEcho()).address);
    proxy.throttle(MiB);
    const client = await dialProxy(proxy.port);
    const payload = randomBytes(512 * 1024);
    const start = performance.now();
    client.socket.write(payload);
    expect((await client.waitFor(payload.length)).equals(payload)).toBe(true);
    // 0.5 s at 1 MiB/s (less the first 20 ms slice); the two directions overlap.
    expect(performance.now() - start).toBeGreaterThanOrEqual(400);
  });

  it("a WebSocket through the proxy sees a close after cutAll", async () => {
    const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    cleanups.push(async () => {
      for (const ws of wss.clients) ws.terminate();
      await new Promise((resolve) => wss.close(resolve));
    });
    await new Promise<void>((resolve) => wss.once("listening", resolve));
    const paths: string[] = [];
    const serverClosed = new Promise<number>((resolve) => {
      wss.on("connection", (ws, req) => {
        paths.push(req.url ?? "");
        ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary }));
        ws.on("close", (code) => resolve(code));
      });
    });
    const address = wss.address();
    if (address === null || typeof address === "string") throw new Error("expected a TCP address");
    const proxy = await startProxy({ host: "127.0.0.1", port: address.port });

    const ws = new WebSocket(proxy.url("ws", "/live"));
    cleanups.push(() => ws.terminate());
    const clientClosed = new Promise<number>((resolve) => ws.once("close", resolve));
    ws.on("error", () => {}); // a reset may surface as an error before the close
    await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
    ws.send("ping");
    const reply = await new Promise<string>((resolve) =>
      ws.once("message", (data) => resolve(String(data))),
    );
    expect(reply).toBe("ping");
    expect(paths).toEqual(["/live"]);

    expect(proxy.cutAll()).toBe(1);
    expect(await clientClosed).toBe(1006);
    expect(await serverClosed).toBe(1006);
  });

  it("url builds addresses for other schemes and paths", async () => {
    const proxy = await startProxy({ host: "127.0.0.1", port: 1 });
    expect(proxy.url()).toBe(`ws://127.0.0.1:${proxy.port}/`);
    expect(proxy.url("http", "/health")).toBe(`http://127.0.0.1:${proxy.port}/health`);
  });
});
