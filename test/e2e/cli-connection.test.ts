// What every client command shares, tried as a new user would with the built binary: one
// strictness for the config file, one set of connection options (unix: and --ca for sync and
// share too, retries announced, refusals in the server's own words, no retrying what cannot
// change), one way an interrupt ends a command, and a serve whose --help and start line say
// what a client needs.

import type { ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateTestKey, type TestKey } from "../../src/transport/auth/testing/ssh-keygen.js";
import {
  type CliResult,
  createDeviceEnv,
  runCliProcess,
  serveEnv,
  spawnCli,
  stopServe,
  waitForExit,
  waitForLine,
  waitForStderr,
} from "../helpers/cli.js";
import { createTempDir } from "../helpers/temp-dir.js";
import { createSelfSignedCert } from "../helpers/tls.js";

let dir: { path: string; remove: () => Promise<void> };
let key: TestKey;
let certFile: string;
/** A plain server with the transport on: its ws:// URL. */
let plainUrl: string;
/** A TLS server without the transport, also on a Unix socket given as a relative path. */
let tlsUrl: string;
let unixLine: string;
/** A port nothing listens on, and one that accepts connections but never answers. */
let deadPort: number;
let silent: Server;
let silentPort: number;
const children: ChildProcess[] = [];

beforeAll(async () => {
  dir = await createTempDir("syncline-connection-");
  key = generateTestKey(dir.path, "ed25519");
  const authorizedKeys = join(dir.path, "authorized_keys");
  writeFileSync(authorizedKeys, `${key.publicLine}\n`);
  ({ certFile } = createSelfSignedCert(dir.path));
  const plain = await serve("plain", ["--authorized-keys", authorizedKeys]);
  plainUrl = plain.replace(/^http/, "ws");
  const tlsCwd = join(dir.path, "tls-cwd");
  mkdirSync(tlsCwd);
  const keyFile = join(dir.path, "key.pem");
  const tls = spawnCli(
    ["serve", "--port", "0", "--data", join(dir.path, "tls-data")].concat([
      "--tls-cert",
      certFile,
      "--tls-key",
      keyFile,
      "--unix",
      "rel.sock",
    ]),
    { env: serveEnv(dir.path), cwd: tlsCwd },
  );
  children.push(tls);
  tlsUrl = (await waitForLine(tls, /^listening on https:/)).slice("listening on ".length).trim();
  unixLine = await waitForLine(tls, /^listening on unix:/);
  deadPort = await closedPort();
  silent = createServer(() => {}); // accepts, never answers: a black hole
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  silentPort = (silent.address() as { port: number }).port;
});

afterAll(async () => {
  for (const child of children) await stopServe(child);
  silent?.close();
  await dir?.remove();
});

async function serve(name: string, args: readonly string[]): Promise<string> {
  const child = spawnCli(["serve", "--port", "0", "--data", join(dir.path, name), ...args], {
    env: serveEnv(dir.path),
  });
  children.push(child);
  return (await waitForLine(child, /^listening on http/)).slice("listening on ".length).trim();
}

function device(config?: string): NodeJS.ProcessEnv {
  return { ...createDeviceEnv(dir.path, config), SSH_AUTH_SOCK: "" };
}

function json(result: CliResult): Record<string, unknown> {
  const lines = result.stdout.trim().split("\n");
  return JSON.parse(lines.at(-1) as string);
}

function payloadFile(name: string): string {
  const path = join(dir.path, name);
  writeFileSync(path, "hello");
  return path;
}

const identity = () => ["--identity", key.privatePath];

describe("one strictness for the config file", () => {
  it("a typo in [transport] is an error naming the key, with the known one suggested", async () => {
    const env = device('[transport]\nsevrer = "ws://127.0.0.1:1"\n');
    const result = await runCliProcess(
      ["send", payloadFile("t.txt"), "--channel", "c", ...identity(), "--json"],
      { env },
    );
    expect(result.code).toBe(2);
    expect(json(result)).toMatchObject({ ok: false, error: { code: "ERR_CONFIG_FILE" } });
    expect(result.stdout).toMatch(/unknown key transport\.sevrer in .*did you mean \\"server\\"\?/);
  });

  it("a typo in [sync] stops the sync before any server is contacted", async () => {
    const file = join(dir.path, "private.automerge");
    const env = device(`[sync]\nsever = "${plainUrl}"\n`);
    const result = await runCliProcess(["sync", "--new", "--file", file, "--json"], { env });
    expect(result.code).toBe(2);
    expect(json(result)).toMatchObject({ ok: false, error: { code: "ERR_CONFIG_FILE" } });
    expect(result.stdout).toContain('did you mean \\"server\\"?');
    expect(existsSync(file)).toBe(false);
  });

  it("a value of the wrong TOML type in [server] names the key, the value and its type", async () => {
    const config = join(dir.path, "port-string.toml");
    writeFileSync(config, '[server]\nport = "3040"\n');
    const result = await runCliProcess(
      ["serve", "--data", join(dir.path, "never"), "--config", config, "--json"],
      { env: serveEnv(dir.path) },
    );
    expect(result.code).toBe(2);
    expect(json(result)).toEqual({
      ok: false,
      error: {
        code: "ERR_INVALID_CONFIG",
        message: `config: server.port in ${config} must be an integer, got "3040" (a string)`,
      },
    });
  });
});

describe("the same connection options for every client command", () => {
  it("serve prints its Unix socket as an absolute address clients take", () => {
    expect(unixLine).toBe(`listening on unix:${join(dir.path, "tls-cwd", "rel.sock")}`);
  });

  it("sync works over the Unix socket and over wss:// with --ca; without --ca it fails at once", async () => {
    const unix = unixLine.slice("listening on ".length);
    const first = join(dir.path, "over-unix.automerge");
    const created = await runCliProcess(
      ["sync", "--new", "--file", first, "--server", unix, "--json"],
      { env: device() },
    );
    expect(created.code, created.stderr).toBe(0);
    const { url, heads } = json(created) as { url: string; heads: string[] };
    const copy = join(dir.path, "over-tls.automerge");
    const wss = tlsUrl.replace(/^https/, "wss");
    const fetched = await runCliProcess(
      ["sync", url, "--file", copy, "--server", wss, "--ca", certFile, "--json"],
      { env: device() },
    );
    expect(fetched.code, fetched.stderr).toBe(0);
    expect(json(fetched)).toMatchObject({ ok: true, heads });

    const untrusted = await runCliProcess(["sync", url, "--file", copy, "--server", wss], {
      env: device(),
    });
    expect(untrusted.code).toBe(3);
    expect(untrusted.stderr).toMatch(/TLS failure: .*trust the server's certificate with --ca/);
    expect(untrusted.stderr).not.toMatch(/retrying in/);
  });

  it("share create, watch and delete work over the Unix socket and over https:// with --ca", async () => {
    const env = device();
    const unix = unixLine.slice("listening on ".length);
    const sessionID = "ses_connection01";
    const created = await runCliProcess(
      ["share", "create", sessionID, "--server", unix, "--json"],
      { env },
    );
    expect(created.code, created.stderr).toBe(0);
    expect(json(created)).toMatchObject({ ok: true, server: unix, id: "ection01" });
    const watcher = spawnCli(
      ["share", "watch", "ection01", "--server", tlsUrl, "--ca", certFile, "--json"],
      { env },
    );
    await waitForLine(watcher, /"type":"snapshot"/);
    watcher.kill("SIGINT");
    expect((await waitForExit(watcher, 10_000)).code).toBe(0);
    const deleted = await runCliProcess(["share", "delete", sessionID, "--json"], { env });
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(json(deleted)).toMatchObject({ ok: true, server: unix });
  });

  it("announces each retry of a connection, then exits 3", async () => {
    const result = await runCliProcess(
      ["send", payloadFile("r.txt"), "--channel", "c", ...identity()].concat([
        "--server",
        `ws://127.0.0.1:${deadPort}`,
        "--retries",
        "2",
      ]),
      { env: device() },
    );
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(
      /connection refused .*; retrying in \d+\.\d s \(attempt 2 of 3\)/,
    );
    expect(result.stderr).toMatch(/retrying in \d+\.\d s \(attempt 3 of 3\)/);
    expect(result.stderr).toMatch(/gave up after 3 attempts/);
  });

  it("a server without the transport is refused at once, in the server's own words", async () => {
    const started = Date.now();
    const result = await runCliProcess(
      ["send", payloadFile("d.txt"), "--channel", "c", ...identity(), "--json"].concat([
        "--server",
        tlsUrl,
        "--ca",
        certFile,
      ]),
      { env: device() },
    );
    expect(result.code).toBe(3);
    expect(json(result)).toMatchObject({
      ok: false,
      error: {
        code: "ERR_TRANSPORT_DISABLED",
        message: expect.stringContaining(
          "transport disabled: start the server with --authorized-keys FILE",
        ),
      },
    });
    expect(result.stderr).not.toMatch(/retrying in/);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("wss:// to a port without TLS fails at once and says so", async () => {
    const plainPort = new URL(plainUrl).port;
    for (const args of [
      ["send", payloadFile("w.txt"), "--channel", "c", ...identity()],
      ["sync", "--new", "--file", join(dir.path, "wss.automerge")],
    ]) {
      const result = await runCliProcess([...args, "--server", `wss://127.0.0.1:${plainPort}`], {
        env: device(),
      });
      expect(result.code, args[0]).toBe(3);
      expect(result.stderr).toContain("the server does not speak TLS on that port: use ws://");
      expect(result.stderr).not.toMatch(/retrying in/);
    }
  });

  it("--timeout ends a command that gets no answer with exit 7", async () => {
    const result = await runCliProcess(
      ["send", payloadFile("s.txt"), "--channel", "c", ...identity()].concat([
        "--server",
        `ws://127.0.0.1:${silentPort}`,
        "--timeout",
        "1",
        "--json",
      ]),
      { env: device() },
    );
    expect(result.code).toBe(7);
    expect(json(result)).toMatchObject({ ok: false, error: { code: "ERR_TIMEOUT" } });
  });
});

describe("one way an interrupt ends a client command", () => {
  it.each([
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const)(
    "send --json stopped by %s prints ERR_INTERRUPTED and exits %i",
    async (signal, code) => {
      const sender = spawnCli(
        ["send", payloadFile(`i-${signal}.txt`), "--channel", "c", ...identity(), "--json"].concat([
          "--server",
          `ws://127.0.0.1:${deadPort}`,
          "--retries",
          "50",
        ]),
        { env: device() },
      );
      await waitForStderr(sender, /retrying in/);
      sender.kill(signal);
      const result = await waitForExit(sender, 10_000);
      expect(result.code).toBe(code);
      expect(json(result)).toMatchObject({ ok: false, error: { code: "ERR_INTERRUPTED" } });
    },
  );

  it.each([
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const)(
    "recv waiting for a payload, stopped by %s, exits %i with ERR_INTERRUPTED",
    async (signal, code) => {
      const output = join(dir.path, `never-${signal}.bin`);
      const receiver = spawnCli(
        ["recv", "--channel", `empty-${signal}`, "-o", output, ...identity(), "--json"].concat([
          "--server",
          plainUrl,
        ]),
        { env: device() },
      );
      // Connected and waiting: give it the time to authenticate, then stop it.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      receiver.kill(signal);
      const result = await waitForExit(receiver, 10_000);
      expect(result.code).toBe(code);
      expect(json(result)).toMatchObject({
        ok: false,
        error: { code: "ERR_INTERRUPTED", message: expect.stringContaining("before a payload") },
      });
      expect(existsSync(output)).toBe(false);
    },
  );
});

describe("the CLI explains itself", () => {
  it("serve --help names each setting's environment variable and config key", async () => {
    const result = await runCliProcess(["serve", "--help"]);
    expect(result.code).toBe(0);
    const help = result.stdout.replace(/\s+/g, " "); // commander wraps to the terminal's width
    expect(help).toContain("[env SYNCLINE_SHARE_MAX_BYTES, config server.share_max_bytes]");
    expect(help).toContain("[env PORT, config server.port] (default 3030)");
  });

  it("syncline with no command prints the commands on stderr and exits 2", async () => {
    const result = await runCliProcess([]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("Commands:");
    expect(result.stderr).toContain("syncline: no command given");
  });
});

/** A TCP port nothing listens on (bound, then released). */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
