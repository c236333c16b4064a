// The upgrade router against a real HTTP server on port 0: an upgrade whose async check was still
// running when shutdown began is refused with 503, never accepted after the 1001s went out; an
// upgrade no route takes, with no fallback mounted, is refused with 404.

import { createServer, type IncomingMessage, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { UpgradeRouter } from "./upgrade-router.js";

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => server?.close(() => resolve()) ?? resolve());
  server = undefined;
});

async function listen(router: UpgradeRouter): Promise<number> {
  server = createServer((_request, response) => response.end());
  server.on("upgrade", router.handleUpgrade);
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

/** Sends an upgrade request; resolves with the refusal's status, or "upgraded". */
function upgrade(port: number, path: string): Promise<number | "upgraded"> {
  return new Promise((resolve, reject) => {
    const req = request({
      port,
      host: "127.0.0.1",
      path,
      headers: {
        connection: "Upgrade",
        upgrade: "websocket",
        "sec-websocket-version": "13",
        "sec-websocket-key": Buffer.alloc(16, 1).toString("base64"),
      },
    });
    req.on("upgrade", (_response, socket) => {
      socket.destroy();
      resolve("upgraded");
    });
    req.on("response", (response: IncomingMessage) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    req.on("error", reject);
    req.end();
  });
}

describe("UpgradeRouter", () => {
  it("refuses with 503 an upgrade whose check finished after shutdown began", async () => {
    let pass: (() => void) | undefined;
    const checking = new Promise<void>((resolve) => {
      pass = resolve;
    });
    let started: () => void = () => {};
    const checkStarted = new Promise<void>((resolve) => {
      started = resolve;
    });
    const refused: [string, number, string][] = [];
    const accepted: string[] = [];
    const router = new UpgradeRouter({
      accepted: (name) => accepted.push(name),
      refused: (name, error) => refused.push([name, error.status ?? 0, error.message]),
      socketError: () => {},
    }).route("/slow", {
      name: "slow",
      maxPayload: 1024,
      async authenticate() {
        started();
        await checking;
        return { accept: true, context: undefined };
      },
      onConnection: (socket) => socket.close(),
    });
    const port = await listen(router);
    const answer = upgrade(port, "/slow");
    await checkStarted;
    router.stopAccepting();
    pass?.();
    expect(await answer).toBe(503);
    expect(accepted).toEqual([]);
    expect(refused).toEqual([
      ["slow", 503, "server is shutting down; retry on another node or later"],
    ]);
    expect(router.sockets).toEqual([]);
  });

  it("accepts the same upgrade while still accepting, and refuses new ones after", async () => {
    const router = new UpgradeRouter().route("/fast", {
      name: "fast",
      maxPayload: 1024,
      authenticate: async () => ({ accept: true, context: undefined }),
      onConnection: (socket) => socket.close(),
    });
    const port = await listen(router);
    expect(await upgrade(port, "/fast")).toBe("upgraded");
    router.stopAccepting();
    expect(await upgrade(port, "/fast")).toBe(503);
  });

  it("refuses with 404, naming the path, an upgrade no route takes when no fallback is mounted", async () => {
    const refused: [string, number, string][] = [];
    const router = new UpgradeRouter({
      accepted: () => {},
      refused: (name, error) => refused.push([name, error.status ?? 0, error.message]),
      socketError: () => {},
    }).route("/fast", {
      name: "fast",
      maxPayload: 1024,
      authenticate: async () => ({ accept: true, context: undefined }),
      onConnection: (socket) => socket.close(),
    });
    const port = await listen(router);
    expect(await upgrade(port, "/elsewhere")).toBe(404);
    expect(refused).toEqual([["none", 404, "no websocket endpoint at /elsewhere"]]);
    expect(await upgrade(port, "/fast")).toBe("upgraded");
  });
});
