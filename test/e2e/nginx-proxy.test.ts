// A real server behind Debian's nginx, configured by docs/examples/nginx.conf itself (only its
// ports, certificates, paths and host names filled in), on loopback. Through nginx: real
// automerge-repo clients on two connections, a share synced through the API and watched by a
// viewer, `syncline send` → `recv` over /wire passed through to the server's own TLS (SNI
// `localhost`), /wire refused on the TLS-terminating host, and the client address the server
// counts under (the stream block's PROXY header, then X-Forwarded-For). Needs nginx with the
// stream module: fails under CI=true without it, skipped otherwise.

import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { join, resolve } from "node:path";
import tls from "node:tls";
import * as A from "@automerge/automerge";
import type { Repo } from "@automerge/automerge-repo";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateTestKey, type TestKey } from "../../src/transport/auth/testing/ssh-keygen.js";
import { createRepoClient, storeHasHeads, waitUntil } from "../helpers/automerge-clients.js";
import { createDeviceEnv, runCliProcess } from "../helpers/cli.js";
import {
  fillTemplate,
  type NginxRun,
  nginxMissing,
  startNginx,
  type TestNginx,
} from "../helpers/nginx.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { call, openViewer, sessionItems, sessionOf, type TestViewer } from "../helpers/share.js";
import { createTempDir } from "../helpers/temp-dir.js";
import { createSelfSignedCert } from "../helpers/tls.js";

if (nginxMissing !== undefined && process.env.CI) {
  describe("syncline behind nginx", () => {
    it("has nginx with the stream module (required under CI=true)", () => {
      throw new Error(`nginx proxy test under CI=true: ${nginxMissing}`);
    });
  });
}

const example = readFileSync(
  resolve(import.meta.dirname, "../../docs/examples/nginx.conf"),
  "utf8",
);

/** This test's values for the example's ports, paths and certificate. */
interface ExampleValues {
  readonly nginx: NginxRun;
  readonly synclinePort: number;
  readonly synclineSocket: string;
  readonly cert: { certFile: string; keyFile: string };
}

/**
 * docs/examples/nginx.conf with this test's values: nginx's own files in its run directory,
 * loopback ports (IPv4 only: a test machine may have no IPv6), the test server's TLS port and
 * socket, and `localhost` as the /wire host name (the HTTPS host is reached by IP address, with
 * no server name, which the example routes there by default).
 */
function exampleConfig({ nginx, synclinePort, synclineSocket, cert }: ExampleValues): string {
  const [publicPort, internalPort, plainPort] = nginx.ports;
  return fillTemplate(example, [
    ["user www-data;", nginx.workerUser],
    ["pid /run/nginx.pid;", `pid ${nginx.pidFile};`],
    ["error_log /var/log/nginx/error.log;", `error_log ${nginx.errorLog};`],
    ["include /etc/nginx/modules-enabled/*.conf;", nginx.loadStreamModule],
    ["access_log /var/log/nginx/access.log;", `access_log ${nginx.accessLog}; ${nginx.tempPaths}`],
    ["listen 443;", `listen 127.0.0.1:${publicPort};`],
    ["listen [::]:443;", ""],
    ["listen 80;", `listen 127.0.0.1:${plainPort};`],
    ["listen [::]:80;", ""],
    ["127.0.0.1:8443", `127.0.0.1:${internalPort}`],
    ["127.0.0.1:3030", `127.0.0.1:${synclinePort}`],
    ["unix:/run/syncline/syncline.sock", `unix:${synclineSocket}`],
    ["wire.example.org", "localhost"],
    ["/etc/letsencrypt/live/sync.example.org/fullchain.pem", cert.certFile],
    ["/etc/letsencrypt/live/sync.example.org/privkey.pem", cert.keyFile],
  ]);
}

/**
 * Makes this test process's TLS connections that name no CA trust `ca`: the reference Repo
 * client and the share helpers open WebSockets and requests without TLS options, and Node 20
 * reads NODE_EXTRA_CA_CERTS only at start. Returns the undo.
 */
function trustForConnectionsWithoutCa(ca: string): () => void {
  const connect = tls.connect;
  const withCa = (...args: unknown[]) => {
    const [options] = args;
    if (typeof options === "object" && options !== null && !("ca" in options && options.ca)) {
      args[0] = { ...options, ca };
    }
    return Reflect.apply(connect, tls, args);
  };
  Object.assign(tls, { connect: withCa });
  return () => Object.assign(tls, { connect });
}

/** A POST of JSON to nginx from a chosen loopback address, with a chosen X-Forwarded-For. */
function postFrom(
  url: string,
  body: unknown,
  options: { ca: string; localAddress: string; forwardedFor: string },
): Promise<number> {
  return new Promise((resolvePost, reject) => {
    const req = request(url, {
      method: "POST",
      ca: options.ca,
      localAddress: options.localAddress,
      headers: { "content-type": "application/json", "x-forwarded-for": options.forwardedFor },
    });
    req.once("response", (response) => {
      response.resume();
      response.once("end", () => resolvePost(response.statusCode ?? 0));
    });
    req.once("error", reject);
    req.end(JSON.stringify(body));
  });
}

describe.skipIf(nginxMissing !== undefined)(
  "syncline behind nginx (docs/examples/nginx.conf)",
  () => {
    let dir: { path: string; remove: () => Promise<void> };
    let server: TestServer;
    let nginx: TestNginx;
    let untrust: () => void = () => {};
    /** https://127.0.0.1:<public port>: the TLS-terminating host (no server name). */
    let base: string;
    /** wss://localhost:<public port>: passed through to the server's own TLS. */
    let wire: string;
    let nginxCa: string;
    let nginxCaFile: string;
    let synclineCaFile: string;
    let keys: { alice: TestKey; bob: TestKey };
    const repos: Repo[] = [];
    const viewers: TestViewer[] = [];

    beforeAll(async () => {
      dir = await createTempDir("syncline-nginx-proxy-");
      for (const sub of ["nginx-tls", "syncline-tls", "keys"]) mkdirSync(join(dir.path, sub));
      const nginxCert = createSelfSignedCert(join(dir.path, "nginx-tls"));
      const synclineCert = createSelfSignedCert(join(dir.path, "syncline-tls"));
      nginxCa = nginxCert.cert;
      nginxCaFile = nginxCert.certFile;
      synclineCaFile = synclineCert.certFile;
      keys = {
        alice: generateTestKey(join(dir.path, "keys"), "ed25519", { name: "alice" }),
        bob: generateTestKey(join(dir.path, "keys"), "ed25519", { name: "bob" }),
      };
      const authorizedKeys = join(dir.path, "authorized_keys");
      writeFileSync(authorizedKeys, `${keys.alice.publicLine}\n${keys.bob.publicLine}\n`);
      const synclineSocket = join(dir.path, "syncline.sock");
      // As docs/examples/syncline.service runs it: TLS with PROXY headers on TCP, plain HTTP with
      // X-Forwarded-For on the Unix socket, both from trusted proxies.
      server = await startTestServer({
        unixSocket: synclineSocket,
        tlsCert: synclineCert.certFile,
        tlsKey: synclineCert.keyFile,
        proxyProtocol: true,
        trustedProxies: "127.0.0.1,unix",
        authorizedKeys,
        // Small, to see whose address a share creation is counted under.
        rateShareCreateBurst: 2,
        rateShareCreatePerMinute: 1,
      });
      nginx = await startNginx(3, (run) =>
        exampleConfig({
          nginx: run,
          synclinePort: server.server.port,
          synclineSocket,
          cert: nginxCert,
        }),
      );
      const publicPort = nginx.run.ports[0];
      base = `https://127.0.0.1:${publicPort}`;
      wire = `wss://localhost:${publicPort}`;
      untrust = trustForConnectionsWithoutCa(nginxCa);
    });

    afterAll(async () => {
      for (const viewer of viewers) viewer.socket.terminate();
      await Promise.all(repos.map((repo) => repo.shutdown().catch(() => {})));
      untrust();
      await nginx?.stop();
      await server?.stop();
      await dir?.remove();
    });

    it("automerge-repo clients on two connections see each other's changes", async () => {
      const alice = createRepoClient(`${base.replace(/^https/, "wss")}/`, "alice");
      const bob = createRepoClient(`${base.replace(/^https/, "wss")}/any/path`, "bob");
      repos.push(alice, bob);
      const handle = alice.create<{ items: string[] }>({ items: ["from alice"] });
      // Bob asks only once the server has it (a find that comes first is answered "unavailable").
      const heads = A.getHeads(handle.doc());
      await waitUntil(
        () => storeHasHeads(server.server.store, handle.documentId, heads),
        10_000,
        "alice's document on the server",
      );
      const bobs = await bob.find<{ items: string[] }>(handle.url);
      expect(bobs.doc().items).toEqual(["from alice"]);
      bobs.change((doc) => doc.items.push("from bob"));
      await waitUntil(
        () => handle.doc().items.includes("from bob"),
        10_000,
        "bob's change at alice",
      );
      handle.change((doc) => doc.items.push("alice again"));
      await waitUntil(
        () => bobs.doc().items.includes("alice again"),
        10_000,
        "alice's change at bob",
      );
    });

    it("a share synced through the API reaches a viewer, live updates included; the page is served", async () => {
      const id = "proxy001";
      const sessionID = sessionOf(id);
      const created = await call(base, "POST", "/api/share", { sessionID });
      expect(created.status, created.text).toBe(201);
      const secret = created.body.secret as string;
      const synced = await call(base, "POST", `/api/share/${id}/sync`, {
        secret,
        data: sessionItems(sessionID, 1),
      });
      expect(synced.status, synced.text).toBe(200);

      const viewer = await openViewer(base, `id=${id}&v=2`);
      viewers.push(viewer);
      const state = await viewer.waitFrames(4);
      expect(state.map((frame) => frame.key ?? frame.type)).toEqual([
        `session/info/${sessionID}`,
        `session/message/${sessionID}/msg_1`,
        `session/part/${sessionID}/msg_1/prt_0`,
        "state",
      ]);
      const part = { id: "prt_1", messageID: "msg_1", sessionID, type: "text", text: "live" };
      const update = await call(base, "POST", `/api/share/${id}/sync`, {
        secret,
        data: [{ type: "part", data: part }],
      });
      expect(update.status, update.text).toBe(200);
      const [, , , , live] = await viewer.waitFrames(5);
      expect(live).toEqual({
        key: `session/part/${sessionID}/msg_1/prt_1`,
        content: part,
        seq: update.body.seq,
      });

      const page = await fetch(`${base}/share/${id}`);
      expect(page.status).toBe(200);
      expect(page.headers.get("content-type")).toMatch(/^text\/html/);
      const plain = await fetch(`http://127.0.0.1:${nginx.run.ports[2]}/share/${id}`, {
        redirect: "manual",
      });
      expect(plain.status).toBe(301);
      expect(plain.headers.get("location")).toBe(`https://127.0.0.1/share/${id}`);
    });

    it("syncline send → recv over /wire passed through to the server's TLS: the same bytes", async () => {
      const payload = randomBytes(256 * 1024 + 7);
      const file = join(dir.path, "payload.bin");
      const out = join(dir.path, "received.bin");
      writeFileSync(file, payload);
      const device = () => ({ ...createDeviceEnv(dir.path), SSH_AUTH_SOCK: undefined });
      const common = ["--channel", "files", "--server", wire, "--ca", synclineCaFile, "--json"];

      const sent = await runCliProcess(
        ["send", file, ...common, "--identity", keys.alice.privatePath],
        {
          env: device(),
        },
      );
      expect(sent.code, sent.stderr).toBe(0);
      expect(JSON.parse(sent.stdout)).toMatchObject({
        ok: true,
        bytes: payload.length,
        kept: true,
      });

      const received = await runCliProcess(
        ["recv", ...common, "-o", out, "--identity", keys.bob.privatePath],
        { env: device() },
      );
      expect(received.code, received.stderr).toBe(0);
      expect(readFileSync(out).equals(payload)).toBe(true);
    });

    it("/wire on the TLS-terminating host is refused with 421, naming the host to use", async () => {
      const refused = await runCliProcess(
        [
          ...["send", "-", "--channel", "files", "--server", base.replace(/^https/, "wss")],
          ...["--ca", nginxCaFile, "--retries", "0"],
          ...["--identity", keys.alice.privatePath],
        ],
        { env: { ...createDeviceEnv(dir.path), SSH_AUTH_SOCK: undefined }, input: "x" },
      );
      expect(refused.code).toBe(3);
      expect(refused.stderr).toContain(
        "refused (HTTP 421): /wire needs end-to-end TLS: use wss://localhost",
      );
    });

    it("counts a share creation under the client's address, not nginx's nor a forged header", async () => {
      const create = (localAddress: string, id: string) =>
        postFrom(
          `${base}/api/share`,
          { sessionID: sessionOf(id) },
          { ca: nginxCa, localAddress, forwardedFor: "198.51.100.7" },
        );
      // The burst is 2: the third from one address is refused, while another address (sending
      // the same forged X-Forwarded-For) still has its own two.
      expect([
        await create("127.0.0.9", "nine0001"),
        await create("127.0.0.9", "nine0002"),
      ]).toEqual([201, 201]);
      expect(await create("127.0.0.9", "nine0003")).toBe(429);
      expect([
        await create("127.0.0.10", "ten00001"),
        await create("127.0.0.10", "ten00002"),
      ]).toEqual([201, 201]);
    });
  },
);
