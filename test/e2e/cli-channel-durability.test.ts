// Channels never lose a payload silently, as users meet it with the built CLI against real
// `syncline serve` children: a payload nobody is receiving is kept (in the store up to
// --retain-bytes, in the spool folder up to --spool-bytes) for a recv that comes later, and
// survives a restart; `send` says how many receivers got it, and exits 10 (ERR_NOT_DELIVERED)
// when nobody did and the server kept nothing; a server killed with SIGKILL mid-transfer is
// restarted and the sender's resume completes the delivery to the receiver that was waiting.

import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateTestKey, type TestKey } from "../../src/transport/auth/testing/ssh-keygen.js";
import {
  type CliResult,
  runCliProcess,
  spawnCli,
  waitForExit,
  waitForLine,
} from "../helpers/cli.js";
import { type FaultProxy, startFaultProxy } from "../helpers/fault-proxy.js";
import { createTempDir } from "../helpers/temp-dir.js";
import { waitUntil } from "../helpers/transport.js";

const MiB = 1024 * 1024;

/** A `syncline serve` child. */
interface Serve {
  readonly child: ChildProcess;
  readonly url: string;
  readonly port: number;
  readonly data: string;
  /** Its stderr (JSON logs) so far. */
  logs(): string;
}

let dir: { path: string; remove: () => Promise<void> };
let keys: { alice: TestKey; bob: TestKey };
let kept: Serve;
const running = new Set<ChildProcess>();
let devices = 0;

/** A port nothing listens on now (so a server can be restarted on the same one). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === "object" && address ? address.port : 0;
}

function device(): NodeJS.ProcessEnv {
  const home = join(dir.path, "homes", `device-${++devices}`);
  mkdirSync(home, { recursive: true });
  return {
    HOME: home,
    XDG_CONFIG_HOME: join(home, ".config"),
    SYNCLINE_CONFIG: undefined,
    SSH_AUTH_SOCK: undefined,
  };
}

/** Starts `syncline serve` on `port` (0: any) with data in `data`. */
async function serve(data: string, args: readonly string[], port = 0): Promise<Serve> {
  const child = spawnCli(
    ["serve", "--port", String(port), "--data", data, "--shutdown-timeout", "1000"]
      .concat(["--authorized-keys", join(dir.path, "authorized_keys")])
      .concat(args),
    { env: { ...device(), PORT: "", HOST: "" } },
  );
  running.add(child);
  child.once("exit", () => running.delete(child));
  let logs = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    logs += chunk.toString();
  });
  const http = (await waitForLine(child, /^listening on http/, 15_000)).slice(
    "listening on ".length,
  );
  const url = http.trim().replace(/^http/, "ws");
  return { child, url, port: Number(new URL(url).port), data, logs: () => logs };
}

async function stop(server: Serve): Promise<CliResult> {
  server.child.kill("SIGTERM");
  return waitForExit(server.child, 10_000);
}

function randomFile(name: string, size: number): { path: string; bytes: Buffer } {
  const bytes = randomBytes(size);
  const path = join(dir.path, name);
  writeFileSync(path, bytes);
  return { path, bytes };
}

function identity(key: TestKey): string[] {
  return ["--identity", key.privatePath];
}

const send = (file: string, channel: string, server: Serve, extra: readonly string[] = []) =>
  runCliProcess(
    ["send", file, "--channel", channel, ...identity(keys.alice), "--server", server.url, ...extra],
    { env: device(), input: "" },
  );

const recv = (out: string, channel: string, server: Serve, extra: readonly string[] = []) =>
  runCliProcess(
    ["recv", "--channel", channel, "-o", out, ...identity(keys.bob), "--server", server.url]
      .concat(["--json"])
      .concat(extra),
    { env: device(), timeoutMs: 10_000 },
  );

function json(result: CliResult): Record<string, unknown> {
  return JSON.parse(result.stdout.trim()) as Record<string, unknown>;
}

/** Resolves once `server` has authenticated `count` connections in all. */
async function authentications(server: Serve, count: number): Promise<void> {
  const seen = () => server.logs().split('"wire authenticated"').length - 1;
  await waitUntil(() => seen() >= count, `${count} authenticated connections`);
}

beforeAll(async () => {
  dir = await createTempDir("syncline-channel-durability-");
  const keyDir = join(dir.path, "keys");
  mkdirSync(keyDir);
  keys = {
    alice: generateTestKey(keyDir, "ed25519", { name: "alice" }),
    bob: generateTestKey(keyDir, "ecdsa-256", { name: "bob" }),
  };
  writeFileSync(
    join(dir.path, "authorized_keys"),
    `${keys.alice.publicLine}\n${keys.bob.publicLine}\n`,
  );
  kept = await serve(join(dir.path, "kept-data"), [
    ...["--retain-bytes", String(MiB), "--spool-bytes", String(4 * MiB)],
  ]);
});

afterAll(async () => {
  for (const child of running) {
    child.kill("SIGKILL");
    await waitForExit(child, 10_000);
  }
  await dir?.remove();
});

describe("payloads nobody is receiving yet", () => {
  it("one bigger than --retain-bytes is spooled: send says kept, a recv started later gets it", async () => {
    const file = randomFile("big.bin", 3 * MiB + 5);
    const sent = await send(file.path, "later", kept, ["--json"]);
    expect(sent.code, sent.stderr).toBe(0);
    expect(json(sent)).toMatchObject({
      ok: true,
      bytes: file.bytes.length,
      delivered: 0,
      kept: true,
    });

    const out = join(dir.path, "later.out");
    const received = await recv(out, "later", kept);
    expect(received.code, received.stderr).toBe(0);
    expect(readFileSync(out).equals(file.bytes)).toBe(true);
  });

  it("the spool folder is private (700, files 600), its files named locally", async () => {
    const spool = join(kept.data, "channel-spool");
    expect(statSync(spool).mode & 0o777).toBe(0o700);
    const files = readdirSync(spool);
    expect(files.length).toBeGreaterThan(0);
    for (const name of files) {
      expect(name).toMatch(/^[0-9a-f]{32}\.payload$/);
      expect(statSync(join(spool, name)).mode & 0o777).toBe(0o600);
    }
  });

  it("one neither delivered nor kept (bigger than --spool-bytes) makes send exit 10 with ERR_NOT_DELIVERED", async () => {
    const file = randomFile("huge.bin", 5 * MiB);
    const sent = await send(file.path, "nobody", kept, ["--json"]);
    expect(sent.code, sent.stderr).toBe(10);
    expect(json(sent)).toEqual({
      ok: false,
      error: { code: "ERR_NOT_DELIVERED", message: expect.stringContaining("nobody") },
    });
    const text = await send(file.path, "nobody", kept);
    expect(text.code).toBe(10);
    expect(text.stderr).toMatch(/nobody will get it/);
  });

  it("with a receiver waiting, send reports it was delivered to 1 receiver", async () => {
    const out = join(dir.path, "waiting.out");
    const receiver = spawnCli(
      ["recv", "--channel", "waiting", "-o", out, ...identity(keys.bob), "--server", kept.url],
      { env: device() },
    );
    running.add(receiver);
    const before = kept.logs().split('"wire authenticated"').length - 1;
    await authentications(kept, before + 1);
    const file = randomFile("waiting.bin", 5 * MiB); // relayed only: too big to keep
    const sent = await send(file.path, "waiting", kept);
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.stderr).toMatch(/delivered to 1 receiver\b/);
    expect((await waitForExit(receiver, 10_000)).code).toBe(0);
    expect(readFileSync(out).equals(file.bytes)).toBe(true);
  });
});

describe("restarts", () => {
  it("a small kept payload survives a plain restart", async () => {
    const data = join(dir.path, "restart-data");
    const first = await serve(data, []);
    const file = randomFile("small.bin", 1000);
    expect((await send(file.path, "survives", first)).code).toBe(0);
    expect((await stop(first)).code).toBe(0);

    const second = await serve(data, [], first.port);
    const out = join(dir.path, "survives.out");
    const received = await recv(out, "survives", second);
    expect(received.code, received.stderr).toBe(0);
    expect(readFileSync(out).equals(file.bytes)).toBe(true);
    await stop(second);
  });

  it("after kill -9 mid-transfer, the sender's resume completes the delivery to the receiver that waited", async () => {
    const data = join(dir.path, "crash-data");
    const port = await freePort();
    const args = ["--retain-bytes", String(MiB), "--spool-bytes", String(16 * MiB)];
    let server = await serve(data, args, port);
    // The sender goes through a throttled proxy, so the kill lands mid-transfer.
    const proxy: FaultProxy = await startFaultProxy({ target: { host: "127.0.0.1", port } });
    try {
      proxy.throttle(2 * MiB);
      const out = join(dir.path, "crash.out");
      const patient = ["--retries", "30", "--timeout", "60"];
      const receiver = spawnCli(
        ["recv", "--channel", "crash", "-o", out, ...identity(keys.bob), "--server", server.url]
          .concat(patient)
          .concat(["--json"]),
        { env: device() },
      );
      running.add(receiver);
      await authentications(server, 1);
      const file = randomFile("crash.bin", 6 * MiB + 3);
      const sender = spawnCli(
        ["send", file.path, "--channel", "crash", ...identity(keys.alice)]
          .concat(["--server", proxy.url("ws", ""), "--json"])
          .concat(patient),
        { env: device() },
      );
      running.add(sender);
      const spool = join(data, "channel-spool");
      const spooled = () =>
        existsSync(spool)
          ? readdirSync(spool).reduce((sum, name) => sum + statSync(join(spool, name)).size, 0)
          : 0;
      await waitUntil(() => spooled() >= 2 * MiB, "2 MiB of the payload to reach the server");
      server.child.kill("SIGKILL");
      await waitForExit(server.child, 10_000);
      proxy.throttle(0);
      server = await serve(data, args, port);

      const sent = await waitForExit(sender, 60_000);
      const received = await waitForExit(receiver, 60_000);
      expect(sent.code, sent.stderr).toBe(0);
      expect(received.code, received.stderr).toBe(0);
      expect(readFileSync(out).equals(file.bytes)).toBe(true);
      expect(json(sent)).toMatchObject({ ok: true, bytes: file.bytes.length, kept: true });
      expect(json(received)).toMatchObject({ ok: true, bytes: file.bytes.length });
      // The upload resumed from what the killed server had spooled: it was not sent twice.
      expect(proxy.bytesForwarded.up).toBeLessThan(file.bytes.length + 2 * MiB);
    } finally {
      await proxy.close();
      await stop(server);
    }
  }, 90_000);
});
