// The server skeleton over real sockets: base routes, upgrade routing, refusals, limits,
// TLS and Unix listeners, bad input, and graceful shutdown.

import { execFileSync } from "node:child_process";
import { lstatSync, writeFileSync } from "node:fs";
import { createConnection } from "node:net";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { createError } from "../../src/protocol/errors.js";
import type { WebSocketEndpoint } from "../../src/server/upgrade-router.js";
import { httpGet } from "../helpers/http.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { createTempDir } from "../helpers/temp-dir.js";
import { createSelfSignedCert } from "../helpers/tls.js";

const echo: WebSocketEndpoint<string> = {
  name: "echo",
  maxPayload: 1024,
  authenticate(request) {
    const token = new URL(request.url ?? "/", "http://x").searchParams.get("token");
    return token === "good"
      ? { accept: true, context: token }
      : { accept: false, error: createError("ERR_UNAUTHORIZED", "echo: token missing or wrong") };
  },
  onConnection(socket) {
    socket.on("message", (data, isBinary) => socket.send(data, { binary: isBinary }));
  },
};

function opened(socket: WebSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once("open", resolve);
    socket.once("error", reject);
  });
}

function closed(socket: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) =>
    socket.once("close", (code, reason) => resolve({ code, reason: reason.toString() })),
  );
}

function refusedStatus(socket: WebSocket): Promise<number> {
  return new Promise((resolve, reject) => {
    socket.once("unexpected-response", (_request, response) => resolve(response.statusCode ?? 0));
    socket.once("open", () => reject(new Error("upgrade was accepted")));
  });
}

/** The Cache-Control header of an upgrade's refusal. */
function refusedCacheControl(socket: WebSocket): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    socket.once("unexpected-response", (_request, response) => {
      resolve(response.headers["cache-control"]);
      response.destroy();
    });
    socket.once("open", () => reject(new Error("upgrade was accepted")));
  });
}

/** A socket file whose server died without unlinking it, as after kill -9. */
function leaveStaleSocket(path: string): void {
  const script = `require("net").createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, "SIGKILL"))`;
  try {
    execFileSync(process.execPath, ["-e", script], { stdio: "ignore" });
  } catch {
    // killed by its own SIGKILL, as intended
  }
}

const wsUrl = (server: TestServer, path: string) =>
  `${server.server.url.replace(/^http/, "ws")}${path}`;

let running: TestServer[] = [];
afterEach(async () => {
  await Promise.all(running.map((server) => server.stop()));
  running = [];
});

async function start(...args: Parameters<typeof startTestServer>): Promise<TestServer> {
  const server = await startTestServer(...args);
  running.push(server);
  return server;
}

describe("server base routes", () => {
  it("answers /, /healthz, /metrics and 404 on a real port", async () => {
    const test = await start();
    expect(test.server.port).toBeGreaterThan(0);
    const root = await httpGet(`${test.server.url}/`);
    expect(root.status).toBe(200);
    expect(root.body).toMatch(/syncline .* is running/);

    const health = await httpGet(`${test.server.url}/healthz`);
    expect(health.status).toBe(200);
    const body = JSON.parse(health.body);
    expect(body).toMatchObject({ status: "ok" });
    // Exactly these fields: no data directory (or any server path) on a public route.
    expect(body.store).toEqual({ driver: "lmdb", state: "open", writable: true });
    expect(health.body).not.toContain(test.dataDir);
    expect(typeof body.version).toBe("string");
    expect(typeof body.uptime).toBe("number");

    const metrics = await httpGet(`${test.server.url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers["content-type"]).toMatch(/text\/plain/);
    expect(metrics.body).toContain("syncline_process_resident_memory_bytes");
    expect(metrics.body).toContain('syncline_http_requests_total{route="/healthz",status="200"} 1');

    const missing = await httpGet(`${test.server.url}/nope`);
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body).error.code).toBe("ERR_NOT_FOUND");
    expect((await httpGet(`${test.server.url}/healthz`, { method: "POST" })).status).toBe(405);
  });

  it("answers malformed HTTP with 400 and keeps serving", async () => {
    const test = await start();
    const reply = await new Promise<string>((resolve) => {
      const socket = createConnection({ port: test.server.port, host: "127.0.0.1" });
      let text = "";
      socket.on("data", (chunk) => {
        text += chunk.toString();
      });
      socket.on("close", () => resolve(text));
      socket.write("GARBAGE / HTTP/9.9\r\n\r\n");
    });
    expect(reply).toMatch(/^HTTP\/1.1 400/);
    expect(reply).toMatch(/\r\ncache-control: no-store\r\n/i);
    expect((await httpGet(`${test.server.url}/healthz`)).status).toBe(200);
  });
});

describe("websocket upgrades", () => {
  it("hands an upgrade on a path no route takes to the automerge fallback", async () => {
    const open = await start();
    const socket = new WebSocket(wsUrl(open, "/nowhere"));
    await opened(socket); // automerge sync, as the reference server serves any path
    socket.close();
    // With a token the fallback refuses before the upgrade, proving the request reached it.
    const guarded = await start({ automergeToken: "t" });
    expect(await refusedStatus(new WebSocket(wsUrl(guarded, "/nowhere")))).toBe(401);
  });

  it("dispatches by path, refuses before the upgrade with a real status, enforces maxPayload", async () => {
    const test = await start({}, { extend: ({ upgrades }) => upgrades.route("/echo", echo) });
    expect(await refusedStatus(new WebSocket(wsUrl(test, "/echo?token=bad")))).toBe(401);
    const refused = await httpGet(`${test.server.url}/metrics`);
    expect(refused.body).toContain(
      'syncline_websocket_upgrades_refused_total{endpoint="echo",status="401"} 1',
    );
    // A refusal is never cached (the next try may be accepted).
    expect(await refusedCacheControl(new WebSocket(wsUrl(test, "/echo?token=bad")))).toBe(
      "no-store",
    );

    const socket = new WebSocket(wsUrl(test, "/echo?token=good"));
    await opened(socket);
    const reply = new Promise<string>((resolve) =>
      socket.once("message", (d) => resolve(String(d))),
    );
    socket.send("hello");
    expect(await reply).toBe("hello");

    const gauge = await httpGet(`${test.server.url}/metrics`);
    expect(gauge.body).toContain('syncline_websocket_connections{endpoint="echo"} 1');

    const end = closed(socket);
    socket.send(Buffer.alloc(2048));
    expect((await end).code).toBe(1009);

    // The oversized frame closed only that socket: a new one works.
    const again = new WebSocket(wsUrl(test, "/echo?token=good"));
    await opened(again);
    again.close();
  });

  it("closes open sockets with 1001 on shutdown and then refuses new connections", async () => {
    const test = await start({}, { extend: ({ upgrades }) => upgrades.route("/echo", echo) });
    const socket = new WebSocket(wsUrl(test, "/echo?token=good"));
    await opened(socket);
    const end = closed(socket);
    const started = Date.now();
    await test.server.close();
    expect((await end).code).toBe(1001);
    expect(Date.now() - started).toBeLessThan(1500);
    expect(test.server.store.status().state).toBe("closed");
    await expect(httpGet(`${test.server.url}/healthz`)).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe("listeners", () => {
  it("serves the same routes over TLS (https and wss)", async () => {
    const dir = await createTempDir();
    try {
      const { certFile, keyFile, cert } = createSelfSignedCert(dir.path);
      const test = await start(
        { tlsCert: certFile, tlsKey: keyFile },
        { extend: ({ upgrades }) => upgrades.route("/echo", echo) },
      );
      expect(test.server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const health = await httpGet(`${test.server.url}/healthz`, { ca: cert });
      expect(health.status).toBe(200);
      const socket = new WebSocket(wsUrl(test, "/echo?token=good"), { ca: cert });
      await opened(socket);
      const reply = new Promise<string>((r) => socket.once("message", (d) => r(String(d))));
      socket.send("over tls");
      expect(await reply).toBe("over tls");
      socket.close();
    } finally {
      await dir.remove();
    }
  });

  it("reports unreadable or invalid TLS files as ERR_TLS_CONFIG", async () => {
    await expect(
      startTestServer({ tlsCert: "/nonexistent/cert.pem", tlsKey: "/nonexistent/key.pem" }),
    ).rejects.toMatchObject({ code: "ERR_TLS_CONFIG" });
    const dir = await createTempDir();
    try {
      const garbage = join(dir.path, "garbage.pem");
      writeFileSync(garbage, "not a certificate");
      await expect(startTestServer({ tlsCert: garbage, tlsKey: garbage })).rejects.toMatchObject({
        code: "ERR_TLS_CONFIG",
      });
    } finally {
      await dir.remove();
    }
  });

  it("serves the same routes on a Unix socket, replacing a stale socket file", async () => {
    const dir = await createTempDir();
    try {
      const path = join(dir.path, "syncline.sock");
      leaveStaleSocket(path);
      expect(lstatSync(path).isSocket()).toBe(true);
      const alive = await start({ unixSocket: path });
      // ...but a socket with a live server behind it is not taken over.
      await expect(startTestServer({ unixSocket: path })).rejects.toMatchObject({
        code: "ERR_LISTEN",
      });
      const health = await httpGet("http://localhost/healthz", { socketPath: path });
      expect(health.status).toBe(200);
      const socket = new WebSocket(`ws+unix:${path}:/nowhere`);
      await opened(socket); // the automerge fallback, on the Unix socket too
      socket.close();
      expect(alive.server.unixPath).toBe(path);
    } finally {
      await Promise.all(running.map((server) => server.stop()));
      running = [];
      await dir.remove();
    }
  });

  it("reports a port in use as ERR_LISTEN naming the address", async () => {
    const test = await start();
    const error = await startTestServer({ port: test.server.port }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "ERR_LISTEN" });
    expect(String((error as Error).message)).toContain(`127.0.0.1:${test.server.port}`);
  });
});
