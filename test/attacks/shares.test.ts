// Slow readers of a big live share, against the built `syncline serve` in its own process (so its
// RSS, read from /proc/<pid>/status, is the server's alone): viewers and `GET /api/share/:id/data`
// readers that never read a byte. However many there are, they share the one encoded snapshot
// of the share (its memory does not grow with their number), and the output budget cuts every
// one of them once it has read nothing for --output-grace.
//
// `npm test` runs these with a 8 MiB share; SYNCLINE_FULL_ATTACKS=1 runs them at full size (a 40
// MiB share), as the attacks were observed.

import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { serveEnv, startServe, stopServe } from "../helpers/cli.js";
import { sampleRss, settledRss } from "../helpers/process-memory.js";
import { call, sessionOf } from "../helpers/share.js";
import { createTempDir } from "../helpers/temp-dir.js";

const MiB = 1024 * 1024;
const fullSize = process.env.SYNCLINE_FULL_ATTACKS === "1";
/** The share's content, MiB: filled 8 MiB per sync. */
const shareMiB = fullSize ? 40 : 8;
const graceMs = 1500;
/** What the budget's sweep (a quarter of the grace) and a loaded machine may add to the grace. */
const cutSlackMs = 2500;

let dir: { path: string; remove: () => Promise<void> };
let serve: ChildProcess | undefined;
const sockets: Socket[] = [];

beforeEach(async () => {
  dir = await createTempDir("syncline-attack-");
});
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  if (serve) await stopServe(serve);
  serve = undefined;
  await dir.remove();
});

/** The server, with a share of `shareMiB` MiB of content. */
async function serverWithShare() {
  const started = await startServe(join(dir.path, "data"), {
    env: serveEnv(dir.path),
    args: ["--output-grace", String(graceMs), "--share-max-body", String(16 * MiB)],
  });
  serve = started.child;
  const { base } = started;
  const sessionID = sessionOf("bigshare");
  const created = await call(base, "POST", "/api/share", { sessionID });
  expect(created.status).toBe(201);
  const { id, secret } = created.body as { id: string; secret: string };
  const text = "x".repeat(MiB - 200);
  for (let batch = 0; batch < shareMiB / 8; batch++) {
    const data = Array.from({ length: 8 }, (_, i) => ({
      type: "part",
      data: { id: `p${batch}_${i}`, messageID: "m", sessionID, type: "text", text },
    }));
    expect((await call(base, "POST", `/api/share/${id}/sync`, { secret, data })).status).toBe(200);
  }
  const sync = async (n: number) => {
    const data = [{ type: "part", data: { id: "small", messageID: "m", sessionID, text: `${n}` } }];
    expect((await call(base, "POST", `/api/share/${id}/sync`, { secret, data })).status).toBe(200);
  };
  return { base, id, sync, pid: started.child.pid as number };
}

/** A TCP connection that sends `request` and never reads a byte of the answer. */
function stalledRequest(base: string, request: string): Promise<void> {
  const { port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), "127.0.0.1", () => {
      socket.pause();
      socket.write(request, () => resolve());
    });
    socket.on("error", () => {}); // reset by the server's cut, unread
    socket.once("error", reject);
    sockets.push(socket);
  });
}

/** A WebSocket upgrade to the viewer endpoint, written by hand so nothing ever reads its socket. */
function stalledViewer(base: string, id: string): Promise<void> {
  const key = randomBytes(16).toString("base64");
  return stalledRequest(
    base,
    `GET /share_poll?id=${id} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
      `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${key}\r\n\r\n`,
  );
}

/** The server's `syncline_slow_reader_cuts_total` for `endpoint`. */
async function cuts(base: string, endpoint: string): Promise<number> {
  const metrics = await (await fetch(`${base}/metrics`)).text();
  const pattern = new RegExp(
    `^syncline_slow_reader_cuts_total\\{endpoint="${endpoint}"\\} (\\d+)`,
    "m",
  );
  return Number(pattern.exec(metrics)?.[1] ?? 0);
}

/** Waits until `count` connections of `endpoint` were cut; the time that took, ms. */
async function allCut(base: string, endpoint: string, count: number, since: number) {
  const deadline = since + graceMs + cutSlackMs + 5000;
  while ((await cuts(base, endpoint)) < count) {
    if (Date.now() > deadline) {
      throw new Error(`only ${await cuts(base, endpoint)} of ${count} ${endpoint} readers cut`);
    }
    await sleep(100);
  }
  return Date.now() - since;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe(`slow readers of a ${shareMiB} MiB share (server in its own process)`, () => {
  it("20 viewers that never read, a write before each: memory grows by less than 2× the share, all cut", async () => {
    const { base, id, sync, pid } = await serverWithShare();
    const baseline = await settledRss(pid, { everyMs: 500 });
    const rss = sampleRss(pid, 50);
    try {
      let lastOpened = Date.now();
      for (let n = 0; n < 20; n++) {
        await sync(n); // a new seq: each viewer joins another state of the share
        await stalledViewer(base, id);
        lastOpened = Date.now();
      }
      await sleep(500); // every stream has stalled
      const grown = rss.stop() - baseline;
      expect(grown, `RSS grew by ${(grown / MiB).toFixed(0)} MiB`).toBeLessThan(2 * shareMiB * MiB);
      const took = await allCut(base, "share", 20, lastOpened);
      expect(took).toBeLessThan(graceMs + cutSlackMs);
    } finally {
      rss.stop();
    }
    expect((await call(base, "GET", "/healthz")).status).toBe(200);
  }, 90_000);

  it("15 GET /api/share/:id/data that never read: memory grows by less than 2× the share, all cut", async () => {
    const { base, id, pid } = await serverWithShare();
    const baseline = await settledRss(pid, { everyMs: 500 });
    const rss = sampleRss(pid, 50);
    try {
      for (let n = 0; n < 15; n++) {
        await stalledRequest(base, `GET /api/share/${id}/data HTTP/1.1\r\nHost: x\r\n\r\n`);
      }
      const lastOpened = Date.now();
      await sleep(500);
      const grown = rss.stop() - baseline;
      expect(grown, `RSS grew by ${(grown / MiB).toFixed(0)} MiB`).toBeLessThan(2 * shareMiB * MiB);
      const took = await allCut(base, "http", 15, lastOpened);
      expect(took).toBeLessThan(graceMs + cutSlackMs);
    } finally {
      rss.stop();
    }
    expect((await call(base, "GET", "/healthz")).status).toBe(200);
  }, 90_000);
});
