// Attacks on the server's connection limits, each against a real server on loopback: slow
// clients that trickle headers, one address opening more connections or WebSockets than its
// share, headers that lie about the client's address, and requests past the rate limits.

import { connect as tlsConnect } from "node:tls";
import * as A from "@automerge/automerge";
import { afterEach, describe, expect, it } from "vitest";
import type { ServerConfig } from "../../src/server/config.js";
import { generateTestKey, type TestKey } from "../../src/transport/auth/testing/ssh-keygen.js";
import { generateDocumentId } from "../../src/util/ids.js";
import { createRepoClient, storeHasHeads, waitUntil, wsUrl } from "../helpers/automerge-clients.js";
import { openWireClient } from "../helpers/automerge-wire.js";
import {
  closeAll,
  metricValue,
  openRaw,
  type RawConnection,
  requestFrom,
  upgradeFrom,
} from "../helpers/loopback.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { createTempDir } from "../helpers/temp-dir.js";
import { createSelfSignedCert } from "../helpers/tls.js";
import { clientFor, makeKeys } from "../helpers/transport.js";

let test: TestServer | undefined;
const raws: RawConnection[] = [];

afterEach(async () => {
  for (const raw of raws.splice(0)) raw.socket.destroy();
  await test?.stop();
  test = undefined;
});

async function serve(overrides: Partial<ServerConfig>): Promise<TestServer> {
  test = await startTestServer(overrides);
  return test;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function open(port: number, count: number, from = "127.0.0.1"): Promise<RawConnection[]> {
  const opened = await Promise.all(Array.from({ length: count }, () => openRaw(port, from)));
  raws.push(...opened);
  return opened;
}

/** True once the server closed `raw` (it did not answer, or answered and closed). */
async function closedWithin(raw: RawConnection, ms: number): Promise<boolean> {
  return Promise.race([raw.closed.then(() => true), sleep(ms).then(() => false)]);
}

describe("slow clients", () => {
  it("cuts connections that trickle headers at the headers timeout; /healthz answers meanwhile", async () => {
    const { server } = await serve({ httpHeadersTimeoutMs: 1000, httpRequestTimeoutMs: 2000 });
    const started = Date.now();
    const slow = await open(server.port, 300);
    const trickle = setInterval(() => {
      for (const raw of slow) if (!raw.socket.destroyed) raw.socket.write("X-Slow: 1\r\n");
    }, 100);
    try {
      for (const raw of slow) raw.socket.write("GET / HTTP/1.1\r\nHost: x\r\n");
      const health = await requestFrom(`${server.url}/healthz`, "127.0.0.2");
      expect(health.status).toBe(200);
      expect(health.ms).toBeLessThan(1000);
      await Promise.race([Promise.all(slow.map((raw) => raw.closed)), sleep(4000)]);
    } finally {
      clearInterval(trickle);
    }
    expect(slow.filter((raw) => raw.closedAt === undefined).length).toBe(0);
    // Cut at the 1 s timeout (checked every 250 ms), not Node's 60 s, and told so with a 408.
    const latest = Math.max(...slow.map((raw) => (raw.closedAt ?? Infinity) - started));
    expect(latest).toBeLessThan(3000);
    expect(slow.some((raw) => raw.received().startsWith("HTTP/1.1 408"))).toBe(true);
    const metrics = await requestFrom(`${server.url}/metrics`, "127.0.0.3");
    expect(metricValue(metrics.body, "syncline_http_timeouts_total", 'kind="request"')).toBe(300);
  });

  it("cuts a connection that opens and sends nothing, and a body that never ends", async () => {
    const { server } = await serve({ httpHeadersTimeoutMs: 1000, httpRequestTimeoutMs: 1500 });
    const [silent, slowBody] = await open(server.port, 2);
    (slowBody as RawConnection).socket.write(
      "POST /api/share HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
    );
    expect(await closedWithin(silent as RawConnection, 3000)).toBe(true);
    expect(await closedWithin(slowBody as RawConnection, 3000)).toBe(true);
  });
});

describe("WebSockets and the HTTP timeouts", () => {
  it("a quiet WebSocket outlives the headers, request and idle timeouts", async () => {
    const { server } = await serve({
      httpHeadersTimeoutMs: 1000,
      httpRequestTimeoutMs: 1000,
      httpIdleTimeoutMs: 1000,
    });
    const outcome = await upgradeFrom(
      `${server.url.replace(/^http/, "ws")}/automerge`,
      "127.0.0.1",
    );
    expect(outcome.open).toBe(true);
    const socket = outcome.open ? outcome.socket : undefined;
    let closed = false;
    socket?.on("close", () => {
      closed = true;
    });
    await sleep(2500);
    expect(closed).toBe(false);
    await closeAll(socket ? [socket] : []);
  });
});

describe("a client that stops reading", () => {
  it("is cut by the idle timeout once the answer it does not read fills the buffers", async () => {
    const { server } = await serve({ httpIdleTimeoutMs: 1000 });
    const created = await requestFrom(`${server.url}/api/share`, "127.0.0.2", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ sessionID: "ses_test_bigshare" }),
    });
    const { secret } = JSON.parse(created.body);
    const part = (n: number) => ({
      type: "part",
      data: {
        id: `prt_${n}`,
        messageID: "msg_1",
        sessionID: "ses_test_bigshare",
        text: "x".repeat(1_000_000),
      },
    });
    // 50 MB: more than loopback's socket buffers hold (4 MiB to send, up to 32 MiB to receive).
    // Filled in-process: an upload this big would itself take a loaded machine past 1 s.
    await server.shares.sync(
      "bigshare",
      secret,
      Array.from({ length: 50 }, (_, n) => part(n)),
    );
    const [reader] = await open(server.port, 1);
    const raw = reader as RawConnection;
    raw.socket.pause();
    raw.socket.write("GET /api/share/bigshare/data HTTP/1.1\r\nHost: x\r\n\r\n");
    // The server gives up on it (a paused socket sees that only once it reads again).
    const idle = async () => {
      const metrics = await requestFrom(`${server.url}/metrics`, "127.0.0.2");
      return metricValue(metrics.body, "syncline_http_timeouts_total", 'kind="idle"');
    };
    const deadline = Date.now() + 6000;
    while ((await idle()) === 0 && Date.now() < deadline) await sleep(250);
    expect(await idle()).toBe(1);
    raw.socket.resume();
    expect(await closedWithin(raw, 5000)).toBe(true);
    expect(raw.received().length).toBeLessThan(50_000_000);
  });
});

describe("connection caps", () => {
  it("refuses connections over the per-address cap, while other addresses still get in", async () => {
    const { server } = await serve({ maxConnectionsPerAddress: 20 });
    const mine = await open(server.port, 20);
    const [extra] = await open(server.port, 1);
    expect(await closedWithin(extra as RawConnection, 1000)).toBe(true);
    expect((extra as RawConnection).received()).toBe("");
    const other = await requestFrom(`${server.url}/healthz`, "127.0.0.2");
    expect(other.status).toBe(200);
    expect((await requestFrom(`${server.url}/healthz`, "127.0.0.1")).status).toBe(0);
    // Once some close, the same address gets in again.
    for (const raw of mine.slice(0, 5)) raw.socket.destroy();
    await Promise.all(mine.slice(0, 5).map((raw) => raw.closed));
    await sleep(50);
    expect((await requestFrom(`${server.url}/healthz`, "127.0.0.1")).status).toBe(200);
    const metrics = await requestFrom(`${server.url}/metrics`, "127.0.0.2");
    const refused = 'limit="max_connections_per_address"';
    expect(metricValue(metrics.body, "syncline_limit_refusals_total", refused)).toBe(2);
  });

  it("refuses connections over the total cap, whatever their address", async () => {
    const { server } = await serve({ maxConnections: 30 });
    for (let n = 1; n <= 3; n++) await open(server.port, 10, `127.0.0.${n}`);
    const [extra] = await open(server.port, 1, "127.0.0.9");
    expect(await closedWithin(extra as RawConnection, 1000)).toBe(true);
    for (const raw of raws.slice(0, 3)) raw.socket.destroy();
    await sleep(100);
    const metrics = await requestFrom(`${server.url}/metrics`, "127.0.0.9");
    expect(metrics.status).toBe(200);
    expect(
      metricValue(metrics.body, "syncline_limit_refusals_total", 'limit="max_connections"'),
    ).toBe(1);
    expect(metricValue(metrics.body, "syncline_connections")).toBe(28);
  });
});

describe("WebSockets without a credential", () => {
  it("caps share viewers and open automerge peers per address; others and later ones get in", async () => {
    const { server } = await serve({ maxUnauthenticatedWebSocketsPerAddress: 3 });
    const created = await requestFrom(`${server.url}/api/share`, "127.0.0.1", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ sessionID: "ses_test_viewcap1" }),
    });
    expect(created.status).toBe(201);
    const ws = server.url.replace(/^http/, "ws");
    const viewer = `${ws}/share_poll?id=viewcap1`;
    const first = await Promise.all([
      upgradeFrom(viewer, "127.0.0.1"),
      upgradeFrom(viewer, "127.0.0.1"),
      upgradeFrom(`${ws}/automerge`, "127.0.0.1"),
    ]);
    expect(first.map((outcome) => outcome.open)).toEqual([true, true, true]);
    const refused = await upgradeFrom(viewer, "127.0.0.1");
    expect(refused).toMatchObject({ open: false, status: 429 });
    expect(JSON.parse((refused as { body: string }).body).error.code).toBe("ERR_CONNECTION_LIMIT");
    const peer = await upgradeFrom(`${ws}/automerge`, "127.0.0.1");
    expect(peer).toMatchObject({ open: false, status: 429 });
    const elsewhere = await upgradeFrom(viewer, "127.0.0.2");
    expect(elsewhere.open).toBe(true);
    const sockets = first.flatMap((outcome) => (outcome.open ? [outcome.socket] : []));
    await closeAll(sockets.slice(0, 1));
    await sleep(50);
    const again = await upgradeFrom(viewer, "127.0.0.1");
    expect(again.open).toBe(true);
    await closeAll([...sockets, ...[elsewhere, again].flatMap((o) => (o.open ? [o.socket] : []))]);
  });

  it("does not count automerge peers that carry the server's token", async () => {
    const { server } = await serve({
      maxUnauthenticatedWebSocketsPerAddress: 1,
      automergeToken: "sesame",
    });
    const url = `${server.url.replace(/^http/, "ws")}/automerge?token=sesame`;
    const outcomes = await Promise.all([
      upgradeFrom(url, "127.0.0.1"),
      upgradeFrom(url, "127.0.0.1"),
    ]);
    expect(outcomes.map((outcome) => outcome.open)).toEqual([true, true]);
    await closeAll(outcomes.flatMap((o) => (o.open ? [o.socket] : [])));
  });
});

describe("the client's address behind a proxy", () => {
  const viewerOf = (server: TestServer["server"]) =>
    `${server.url.replace(/^http/, "ws")}/share_poll?id=proxycap`;
  async function withShare(server: TestServer["server"]): Promise<void> {
    const created = await requestFrom(`${server.url}/api/share`, "127.0.0.3", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ sessionID: "ses_test_proxycap" }),
    });
    expect(created.status).toBe(201);
  }

  it("counts X-Forwarded-For clients of a trusted proxy apart, and never believes others' header", async () => {
    const { server } = await serve({
      trustedProxies: "127.0.0.1",
      maxUnauthenticatedWebSocketsPerAddress: 2,
    });
    await withShare(server);
    const viewer = viewerOf(server);
    const as = (client: string, from = "127.0.0.1") =>
      upgradeFrom(viewer, from, { "x-forwarded-for": `198.51.100.200, ${client}` });
    const a = await Promise.all([as("203.0.113.5"), as("203.0.113.5")]);
    expect(await as("203.0.113.5")).toMatchObject({ open: false, status: 429 });
    const b = await as("203.0.113.6");
    expect(b.open).toBe(true);
    // From an untrusted peer the header is ignored: each is counted as 127.0.0.2.
    const spoofed = await Promise.all([
      as("203.0.113.7", "127.0.0.2"),
      as("203.0.113.8", "127.0.0.2"),
      as("203.0.113.9", "127.0.0.2"),
    ]);
    expect(spoofed.map((outcome) => outcome.open).sort()).toEqual([false, true, true]);
    await closeAll([...a, b, ...spoofed].flatMap((o) => (o.open ? [o.socket] : [])));
  });

  it("takes the client from a trusted proxy's PROXY header, and refuses connections without one", async () => {
    const { server } = await serve({
      trustedProxies: "127.0.0.1",
      proxyProtocol: true,
      maxConnectionsPerAddress: 2,
    });
    const viaProxy = async (header: string) => {
      const [raw] = await open(server.port, 1);
      (raw as RawConnection).socket.write(`${header}GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n`);
      return raw as RawConnection;
    };
    const client = "PROXY TCP4 198.51.100.7 127.0.0.1 40000 443\r\n";
    const first = await Promise.all([viaProxy(client), viaProxy(client)]);
    await sleep(200);
    for (const raw of first) expect(raw.received()).toMatch(/^HTTP\/1\.1 200/);
    // The proxy's third connection for the same client is over that client's cap…
    const third = await viaProxy(client);
    expect(await closedWithin(third, 1000)).toBe(true);
    expect(third.received()).toBe("");
    // …while another client through the same proxy gets in.
    const other = await viaProxy("PROXY TCP4 198.51.100.8 127.0.0.1 40001 443\r\n");
    await sleep(200);
    expect(other.received()).toMatch(/^HTTP\/1\.1 200/);
    // No header, or a header from a peer that is not a trusted proxy: closed, unanswered.
    expect(await closedWithin(await viaProxy(""), 1000)).toBe(true);
    const [untrusted] = await open(server.port, 1, "127.0.0.2");
    (untrusted as RawConnection).socket.write(client);
    expect(await closedWithin(untrusted as RawConnection, 1000)).toBe(true);
    expect((untrusted as RawConnection).received()).toBe("");
  });
});

describe("the PROXY protocol under TLS", () => {
  it("reads the header before the TLS handshake and counts the client it names", async () => {
    const dir = await createTempDir("syncline-limits-tls-");
    try {
      const { certFile, keyFile, cert } = createSelfSignedCert(dir.path);
      const { server } = await serve({
        tlsCert: certFile,
        tlsKey: keyFile,
        trustedProxies: "127.0.0.1",
        proxyProtocol: true,
        maxConnectionsPerAddress: 1,
      });
      const healthOver = async (client: string) => {
        const [raw] = await open(server.port, 1);
        const socket = (raw as RawConnection).socket;
        socket.write(`PROXY TCP4 ${client} 127.0.0.1 40000 443\r\n`);
        return new Promise<string>((resolve) => {
          const secure = tlsConnect({ socket, ca: cert, servername: "localhost" }, () =>
            secure.write("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"),
          );
          let text = "";
          secure.on("data", (chunk: Buffer) => {
            text += chunk.toString("latin1");
            if (text.includes("\r\n\r\n")) resolve(text);
          });
          secure.on("error", () => resolve(text));
          secure.on("close", () => resolve(text));
        });
      };
      expect(await healthOver("198.51.100.7")).toMatch(/^HTTP\/1\.1 200/);
      // That client is at its cap of one (the first connection is kept alive): the next is cut.
      expect(await healthOver("198.51.100.7")).toBe("");
      expect(await healthOver("198.51.100.8")).toMatch(/^HTTP\/1\.1 200/);
    } finally {
      await test?.stop();
      test = undefined;
      await dir.remove();
    }
  });
});

describe("rate limits", () => {
  const post = (server: TestServer["server"], path: string, body: unknown, from = "127.0.0.1") =>
    requestFrom(`${server.url}${path}`, from, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  const codeOf = (answer: { body: string }) => JSON.parse(answer.body).error.code;

  it("answers share creations past the burst with 429 and Retry-After, per address", async () => {
    const { server } = await serve({ rateShareCreateBurst: 3, rateShareCreatePerMinute: 1 });
    const statuses: number[] = [];
    for (let n = 0; n < 3; n++) {
      statuses.push(
        (await post(server, "/api/share", { sessionID: `ses_test_create0${n}` })).status,
      );
    }
    expect(statuses).toEqual([201, 201, 201]);
    const refused = await post(server, "/share_create", { sessionID: "ses_test_create09" });
    expect(refused.status).toBe(429);
    expect(codeOf(refused)).toBe("ERR_RATE_LIMITED");
    expect(Number(refused.headers["retry-after"])).toBeGreaterThanOrEqual(59);
    const elsewhere = await post(
      server,
      "/api/share",
      { sessionID: "ses_test_create09" },
      "127.0.0.2",
    );
    expect(elsewhere.status).toBe(201);
    const metrics = await requestFrom(`${server.url}/metrics`, "127.0.0.3");
    expect(metricValue(metrics.body, "syncline_rate_limited_total", 'limit="share_create"')).toBe(
      1,
    );
  });

  it("locks out an address that keeps failing share secrets, even with the right one", async () => {
    const { server } = await serve({ rateAuthFailureBurst: 3, rateAuthFailurePerMinute: 1 });
    const created = await post(
      server,
      "/api/share",
      { sessionID: "ses_test_secrets1" },
      "127.0.0.2",
    );
    const { secret } = JSON.parse(created.body);
    const sync = (given: string, from = "127.0.0.1") =>
      post(server, "/api/share/secrets1/sync", { secret: given, data: [] }, from);
    const wrong = await Promise.all([sync("nope1"), sync("nope2"), sync("nope3")]);
    expect(wrong.map((answer) => answer.status)).toEqual([401, 401, 401]);
    const locked = await sync(secret);
    expect([locked.status, codeOf(locked)]).toEqual([429, "ERR_RATE_LIMITED"]);
    expect(Number(locked.headers["retry-after"])).toBeGreaterThan(0);
    const legacy = await post(server, "/share_delete", { sessionID: "ses_test_secrets1", secret });
    expect(legacy.status).toBe(429);
    expect((await sync(secret, "127.0.0.2")).status).toBe(200);
    // A create that presents a secret (to get it echoed for an existing share) is a guess too:
    // past the limit it is not even checked.
    const guess = await post(server, "/api/share", { sessionID: "ses_test_secrets1", secret });
    expect([guess.status, codeOf(guess)]).toEqual([429, "ERR_RATE_LIMITED"]);
  });

  it("locks out an address that keeps failing the automerge token", async () => {
    const { server } = await serve({
      automergeToken: "sesame",
      rateAuthFailureBurst: 2,
      rateAuthFailurePerMinute: 1,
    });
    const url = (token: string) => `${server.url.replace(/^http/, "ws")}/?token=${token}`;
    expect(await upgradeFrom(url("guess1"), "127.0.0.1")).toMatchObject({ status: 401 });
    expect(await upgradeFrom(url("guess2"), "127.0.0.1")).toMatchObject({ status: 401 });
    const locked = await upgradeFrom(url("sesame"), "127.0.0.1");
    expect(locked).toMatchObject({ open: false, status: 429 });
    const other = await upgradeFrom(url("sesame"), "127.0.0.2");
    expect(other.open).toBe(true);
    await closeAll(other.open ? [other.socket] : []);
  });

  it("locks out an address whose /wire keys keep failing, before the handshake", async () => {
    const dir = await createTempDir("syncline-limits-");
    try {
      const { authorizedKeys } = makeKeys(dir.path, ["ed25519"]);
      const { server } = await serve({
        authorizedKeys,
        rateAuthFailureBurst: 2,
        rateAuthFailurePerMinute: 1,
      });
      const wire = server.url.replace(/^http/, "ws");
      const stranger = generateTestKey(dir.path, "ed25519", { name: "stranger" }) as TestKey;
      for (let n = 0; n < 2; n++) {
        const client = await clientFor(wire, stranger);
        await expect(client.whenOpen()).rejects.toMatchObject({ code: "ERR_AUTH_NOT_AUTHORIZED" });
      }
      const refused = await upgradeFrom(`${wire}/wire`, "127.0.0.1");
      expect(refused).toMatchObject({ open: false, status: 429 });
      expect(codeOf(refused as { body: string })).toBe("ERR_RATE_LIMITED");
    } finally {
      await test?.stop();
      test = undefined;
      await dir.remove();
    }
  });

  it("closes an automerge socket with 4430 past its new-document budget", async () => {
    const { server } = await serve({ rateDocumentCreateBurst: 2, rateDocumentCreatePerMinute: 1 });
    const client = await openWireClient(`${server.url.replace(/^http/, "ws")}/`);
    await client.join("creator");
    /** A client's sync message that creates a document: the one with its changes, not heads. */
    const newDocument = (n: number) => {
      const doc = A.change(A.init<{ n: number }>(), (d) => {
        d.n = n;
      });
      const [sent] = A.generateSyncMessage(doc, A.initSyncState());
      const [, serverHas] = A.generateSyncMessage(A.init(), A.initSyncState());
      const [, state] = A.receiveSyncMessage(doc, sent, serverHas as Uint8Array);
      const [, data] = A.generateSyncMessage(doc, state);
      return data as Uint8Array;
    };
    const ids = [generateDocumentId(), generateDocumentId(), generateDocumentId()];
    for (const [n, documentId] of ids.entries()) {
      client.send({
        type: "sync",
        senderId: "creator",
        targetId: "server",
        documentId,
        data: newDocument(n),
      });
      await sleep(100);
    }
    expect(await client.closed).toBe(4430);
    const metrics = await requestFrom(`${server.url}/metrics`, "127.0.0.3");
    expect(
      metricValue(metrics.body, "syncline_rate_limited_total", 'limit="document_create"'),
    ).toBe(1);
    expect(metricValue(metrics.body, "syncline_automerge_documents_loaded_total")).toBe(2);
  });

  it("charges a document once: a real Repo creating exactly the burst's count is never refused", async () => {
    // A memory budget of a few documents evicts them between their first (heads only) message
    // and the one with their changes: each used to be charged twice then.
    const documents = 30;
    const { server } = await serve({
      rateDocumentCreateBurst: documents,
      rateDocumentCreatePerMinute: 1,
      automergeMemoryBudget: 64 * 1024,
    });
    const repo = createRepoClient(wsUrl(server.url), "creator");
    try {
      const handles = Array.from({ length: documents }, (_, n) =>
        repo.create<{ n: number }>({ n }),
      );
      await waitUntil(
        async () => {
          const stored = await Promise.all(
            handles.map((handle) =>
              storeHasHeads(server.store, handle.documentId, A.getHeads(handle.doc())),
            ),
          );
          return stored.every(Boolean);
        },
        15_000,
        "every document stored",
      );
      const metrics = await requestFrom(`${server.url}/metrics`, "127.0.0.3");
      expect(
        metricValue(metrics.body, "syncline_rate_limited_total", 'limit="document_create"'),
      ).toBe(0);
    } finally {
      await repo.shutdown();
    }
  });

  it("has an off switch", async () => {
    const { server } = await serve({
      rateLimits: false,
      rateShareCreateBurst: 1,
      rateShareCreatePerMinute: 1,
    });
    const answers = await Promise.all(
      [1, 2, 3].map((n) => post(server, "/api/share", { sessionID: `ses_test_offswit${n}` })),
    );
    expect(answers.map((answer) => answer.status)).toEqual([201, 201, 201]);
  });
});

describe("deep JSON", () => {
  it("answers a body nested 4,000 deep with 400 ERR_SHARE_REQUEST, and the server goes on", async () => {
    const { server } = await serve({});
    const created = await requestFrom(`${server.url}/api/share`, "127.0.0.1", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ sessionID: "ses_test_deepjson" }),
    });
    const { secret } = JSON.parse(created.body);
    const deep = `${"[".repeat(4000)}${"]".repeat(4000)}`;
    const body = `{"secret":${JSON.stringify(secret)},"data":[{"type":"session","data":{"id":"ses_test_deepjson","x":${deep}}}]}`;
    const answer = await requestFrom(`${server.url}/api/share/deepjson/sync`, "127.0.0.1", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body).error).toMatchObject({ code: "ERR_SHARE_REQUEST" });
    expect(JSON.parse(answer.body).error.message).toMatch(/deeper than 256/);
    const legacy = await requestFrom(`${server.url}/share_create`, "127.0.0.1", {
      method: "POST",
      body: `{"sessionID":${deep}}`,
    });
    expect(legacy.status).toBe(400);
    expect((await requestFrom(`${server.url}/healthz`, "127.0.0.1")).status).toBe(200);
  });
});
