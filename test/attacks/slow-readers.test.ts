// Peers that do not read what the server sends them, against a real server on loopback: the
// output budget cuts them after the grace period, whatever else they do (a viewer sending pongs
// is not reading), and says so in the metrics. Each attack fills the path to the peer: a share
// of several MiB, and a client whose TCP socket is paused, so the kernel buffers fill and the
// rest stays queued in the server.

import { connect } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { call, sessionOf } from "../helpers/share.js";

const MiB = 1024 * 1024;

let server: TestServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

/** A server whose budget cuts within about a second; a share of `megabytes` MiB of content. */
async function serverWithShare(megabytes: number) {
  server = await startTestServer({
    outputGraceMs: 500,
    outputMaxBufferedBytes: 256 * 1024,
    shareMaxBytes: 64 * MiB,
  });
  const base = server.server.url;
  const sessionID = sessionOf("slowrdr1");
  const created = await call(base, "POST", "/api/share", { sessionID });
  expect(created.status).toBe(201);
  const { id, secret } = created.body as { id: string; secret: string };
  const text = "x".repeat(MiB - 200);
  for (let i = 0; i < megabytes; i++) {
    const data = [
      { type: "part", data: { id: `p${i}`, messageID: "m", sessionID, type: "text", text } },
    ];
    expect((await call(base, "POST", `/api/share/${id}/sync`, { secret, data })).status).toBe(200);
  }
  return { base, id };
}

async function cuts(endpoint: string): Promise<number> {
  const metric = await (server as TestServer).server.metrics.slowReaderCuts.get();
  return metric.values.find((value) => value.labels.endpoint === endpoint)?.value ?? 0;
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("the output budget against peers that do not read", () => {
  it("cuts a share viewer that reads nothing, even while it answers with pongs", async () => {
    const { base, id } = await serverWithShare(12);
    const viewer = new WebSocket(`${base.replace(/^http/, "ws")}/share_poll?id=${id}`);
    await new Promise((resolve, reject) => {
      viewer.once("upgrade", (response) => response.socket.pause()); // reads nothing from now on
      viewer.once("open", resolve);
      viewer.once("error", reject);
    });
    const pongs = setInterval(() => viewer.pong(), 100); // liveness is reading, not pongs
    const closed = new Promise((resolve) => viewer.once("close", resolve));
    try {
      await waitFor(async () => (await cuts("share")) === 1, 10_000);
      await closed;
    } finally {
      clearInterval(pongs);
    }
  });

  it("aborts an HTTP response whose reader stalls, and keeps answering others", async () => {
    const { base, id } = await serverWithShare(12);
    const { port } = new URL(base);
    const reader = connect(Number(port), "127.0.0.1", () => {
      reader.write(`GET /api/share/${id}/data HTTP/1.1\r\nHost: x\r\n\r\n`);
      reader.pause(); // never reads the answer
    });
    await waitFor(async () => (await cuts("http")) === 1, 10_000);
    // The connection was dropped: reading what reached this side ends it.
    const ended = new Promise((resolve) => reader.once("close", resolve));
    reader.resume();
    await ended;
    expect((await call(base, "GET", "/healthz")).status).toBe(200);
  });
});
