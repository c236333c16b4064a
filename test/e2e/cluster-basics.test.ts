// Two syncline nodes (the built CLI) sharing a real Postgres and a real Redis, behind Debian's
// HAProxy configured by docs/examples/haproxy.cfg (test/helpers/cluster.ts): both report
// healthy with their bus; HAProxy hands requests and WebSockets to the nodes in turn, and /wire
// connections too (one host key: the client takes both nodes for one server); a node killed
// with SIGKILL is taken out by the health check while new connections keep succeeding on the
// other; with Redis down both nodes say "degraded" and why, and "ok" again once it is back,
// without anyone's help; after a Postgres restart both serve again. Needs Postgres,
// redis-server and haproxy: fails under CI=true without them, skipped otherwise. Timings (how
// long HAProxy and the buses took) are printed on stdout.

import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { generateTestKey, type TestKey } from "../../src/transport/auth/testing/ssh-keygen.js";
import { createDeviceEnv, runCliProcess } from "../helpers/cli.js";
import { clusterMissing, startCluster, type TestCluster } from "../helpers/cluster.js";
import { httpGet } from "../helpers/http.js";
import { readMetric } from "../helpers/metrics-text.js";
import { call, sessionItems, sessionOf } from "../helpers/share.js";
import { createTempDir } from "../helpers/temp-dir.js";

const suite = "several nodes behind HAProxy (docs/examples/haproxy.cfg)";
const missing = clusterMissing(suite);

/** A node's /healthz: its HTTP status and its JSON. */
async function health(base: string): Promise<{ code: number; body: Record<string, unknown> }> {
  const answer = await httpGet(`${base}/healthz`);
  return { code: answer.status, body: JSON.parse(answer.body) as Record<string, unknown> };
}

/** Polls `check` every 100 ms until it returns true; resolves with the milliseconds it took. */
async function until(
  check: () => Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return Date.now() - started;
}

describe.skipIf(missing !== undefined)(suite, () => {
  let cluster: TestCluster;
  let dir: { path: string; remove: () => Promise<void> };
  let key: TestKey;
  const sockets: WebSocket[] = [];

  beforeAll(async () => {
    dir = await createTempDir("syncline-cluster-basics-");
    key = generateTestKey(dir.path, "ed25519", { name: "alice" });
    const authorizedKeys = join(dir.path, "authorized_keys");
    writeFileSync(authorizedKeys, `${key.publicLine}\n`);
    cluster = await startCluster({ nodes: 2, args: ["--authorized-keys", authorizedKeys] });
  }, 120_000);

  afterAll(async () => {
    for (const socket of sockets) socket.terminate();
    await cluster?.stop();
    await dir?.remove();
  }, 60_000);

  /**
   * `GET /` answered 200 by each node so far (HAProxy's health checks ask /healthz instead); 0
   * for a node that is down (a restarted node counts from 0 again anyway).
   */
  const served = () =>
    Promise.all(
      cluster.nodes.map((node) =>
        node.child === undefined
          ? 0
          : readMetric(node.url, "syncline_http_requests_total", { route: "/", status: "200" }),
      ),
    );

  /**
   * `GET /` through HAProxy, one connection each (httpGet uses no agent); for each request, the
   * index of the node whose count went up. Requests run one after the other, so each count
   * change is that request's; the counts are read from the nodes directly, past HAProxy.
   */
  async function throughBalancer(requests: number): Promise<number[]> {
    const nodes: number[] = [];
    for (let n = 0; n < requests; n++) {
      const before = await served();
      const answer = await httpGet(`${cluster.url}/`);
      expect(answer.status, answer.body).toBe(200);
      expect(answer.body).toMatch(/^syncline .* is running/);
      const after = await served();
      const grew = after.flatMap((count, i) => (count > (before[i] ?? 0) ? [i] : []));
      expect(grew, `request ${n}: counts ${before} → ${after}`).toHaveLength(1);
      nodes.push(grew[0] as number);
    }
    return nodes;
  }

  /** Automerge WebSockets open on each node now, read from the nodes directly. */
  const websockets = () =>
    Promise.all(
      cluster.nodes.map((node) =>
        node.child === undefined
          ? 0
          : readMetric(node.url, "syncline_websocket_connections", { endpoint: "automerge" }),
      ),
    );

  /** Opens an automerge WebSocket through HAProxy (the sync endpoint takes any path). */
  async function openThroughBalancer(): Promise<WebSocket> {
    const socket = new WebSocket(`${cluster.url.replace(/^http/, "ws")}/`);
    sockets.push(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once("open", () => resolve());
      socket.once("error", reject);
    });
    return socket;
  }

  it("both nodes are healthy, with their Redis bus open and the one Postgres store", async () => {
    for (const url of [...cluster.nodeUrls, cluster.url]) {
      const { code, body } = await health(url);
      expect(code).toBe(200);
      expect(body).toMatchObject({
        status: "ok",
        bus: { driver: "redis", state: "open" },
        store: { driver: "postgres", state: "open" },
      });
      // Never the Redis URL (the bus's status names no place).
      expect(JSON.stringify(body)).not.toContain(String(cluster.redis.port));
    }
    const servers = await cluster.haproxy.servers();
    expect(
      servers.map((server) => server.status),
      JSON.stringify(servers),
    ).toEqual(["UP", "UP"]);
  });

  it("HAProxy hands requests and WebSockets to the nodes in turn", async () => {
    const nodes = await throughBalancer(6);
    // Round-robin: each request goes to the node the previous one did not.
    for (let n = 1; n < nodes.length; n++) expect(nodes[n]).not.toBe(nodes[n - 1]);
    expect(new Set(nodes)).toEqual(new Set([0, 1]));

    const before = await websockets();
    const opened = [];
    for (let n = 0; n < 4; n++) opened.push(await openThroughBalancer());
    const during = await websockets();
    expect(during.map((count, i) => count - (before[i] ?? 0))).toEqual([2, 2]);
    for (const socket of opened) socket.close();
    await until(
      async () => (await websockets()).every((count, i) => count === before[i]),
      5000,
      "the WebSockets closed on both nodes",
    );
  });

  it("/wire through the TLS-terminating frontend is refused with 421, naming the host to use", async () => {
    const answer = await httpGet(`${cluster.url}/wire`);
    expect(answer.status).toBe(421);
    expect(answer.body).toContain("/wire needs end-to-end TLS");
  });

  it("syncline send through the /wire passthrough: one node, then the other, one host key", async () => {
    const file = join(dir.path, "payload.bin");
    writeFileSync(file, randomBytes(1000));
    const env = { ...createDeviceEnv(dir.path), SSH_AUTH_SOCK: undefined };
    const uploads = () =>
      Promise.all(
        cluster.nodeUrls.map((url) =>
          readMetric(url, "syncline_wire_transfers_total", { kind: "upload", event: "completed" }),
        ),
      );
    const before = await uploads();
    const send = () =>
      runCliProcess(
        [
          ...["send", file, "--channel", "lb", "--server", cluster.wireUrl],
          ...["--identity", key.privatePath, "--retries", "0"],
        ],
        { env },
      );
    const first = await send();
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain("permanently added the host key");
    // The next connection goes to the other node, which presents the same host key: the client
    // takes it for the server it met.
    const second = await send();
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).not.toContain("host key");
    expect((await uploads()).map((count, i) => count - (before[i] ?? 0))).toEqual([1, 1]);
  });

  it("takes a node killed with SIGKILL out; new connections succeed on the other node", async () => {
    await cluster.killNode(1);
    // Before the health check notices, a connection HAProxy tries on the dead node is refused
    // and retried on the other one (retries + option redispatch): no client sees the failure.
    expect(await throughBalancer(4)).toEqual([0, 0, 0, 0]);

    const downAfter = await cluster.haproxy.waitForServer(1, "DOWN");
    console.info(`haproxy marked the killed node down after ${downAfter} ms`);
    // inter 2s, fastinter 1s, fall 2: about 3 s at most.
    expect(downAfter).toBeLessThan(6000);
    expect(await throughBalancer(4)).toEqual([0, 0, 0, 0]);
    const before = await websockets();
    await openThroughBalancer();
    expect((await websockets())[0]).toBe((before[0] ?? 0) + 1);

    const restartStarted = Date.now();
    await cluster.restartNode(1);
    console.info(`the node was back in HAProxy ${Date.now() - restartStarted} ms after restart`);
    expect((await health(cluster.nodeUrls[1] as string)).body).toMatchObject({
      status: "ok",
      bus: { state: "open" },
    });
    expect(new Set(await throughBalancer(4))).toEqual(new Set([0, 1]));
  }, 60_000);

  it('says "degraded" on both nodes with the bus\'s reason while Redis is down, "ok" once it is back', async () => {
    await cluster.redis.stop();
    const noticed = await until(
      async () =>
        (await Promise.all(cluster.nodeUrls.map(health))).every(
          ({ body }) => body.status === "degraded",
        ),
      10_000,
      "both nodes degraded",
    );
    console.info(`both nodes said "degraded" ${noticed} ms after Redis stopped`);
    for (const url of cluster.nodeUrls) {
      const { code, body } = await health(url);
      // Degraded is still 200: the nodes keep serving their clients, and HAProxy keeps both.
      expect(code).toBe(200);
      expect(body.store).toMatchObject({ driver: "postgres", state: "open" });
      expect(body.bus).toMatchObject({
        driver: "redis",
        state: "degraded",
        lastError: expect.stringMatching(/^redis (publisher|subscriber) connection: /),
        since: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      });
    }
    // Two health checks' worth: both nodes stay in.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect((await cluster.haproxy.servers()).map((server) => server.status)).toEqual(["UP", "UP"]);
    expect(new Set(await throughBalancer(2))).toEqual(new Set([0, 1]));

    await cluster.redis.restart();
    const recovered = await until(
      async () =>
        (await Promise.all(cluster.nodeUrls.map(health))).every(({ body }) => body.status === "ok"),
      20_000,
      "both nodes ok again",
    );
    console.info(`both nodes said "ok" again ${recovered} ms after Redis was back`);
    for (const url of cluster.nodeUrls) {
      expect((await health(url)).body.bus).toEqual({ driver: "redis", state: "open" });
    }
  }, 60_000);

  it('says "ok" on both nodes after Postgres restarted, and both serve what is written through HAProxy', async () => {
    await cluster.restartPostgres();
    const recovered = await until(
      async () =>
        (await Promise.all(cluster.nodeUrls.map(health))).every(({ body }) => body.status === "ok"),
      20_000,
      "both nodes ok after the Postgres restart",
    );
    console.info(`both nodes said "ok" ${recovered} ms after Postgres was back`);
    // Each node's pool lost its connections in the restart: a share written through HAProxy
    // (on whichever node) is read from each node directly, out of the one database.
    const id = "lbpg0001";
    const created = await call(cluster.url, "POST", "/api/share", { sessionID: sessionOf(id) });
    expect(created.status, created.text).toBe(201);
    const synced = await call(cluster.url, "POST", `/api/share/${id}/sync`, {
      secret: (created.body as { secret: string }).secret,
      data: sessionItems(sessionOf(id), 1, "after the restart"),
    });
    expect(synced.status, synced.text).toBe(200);
    for (const url of cluster.nodeUrls) {
      const data = await call(url, "GET", `/api/share/${id}/data`);
      expect(data.status, data.text).toBe(200);
      expect(data.text).toContain("after the restart");
    }
  }, 60_000);
});
