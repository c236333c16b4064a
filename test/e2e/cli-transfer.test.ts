// `syncline send`, `recv` and `keys` as users run them: the built binary against real
// `syncline serve` children (TCP + Unix socket, and TLS), keys made by ssh-keygen, a real
// ssh-agent. Every CLI child is its own "device": a temp HOME and XDG_CONFIG_HOME (so its own
// device id, no developer keys or config) and no SSH_AUTH_SOCK unless a test gives it one.

import type { ChildProcess } from "node:child_process";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  watch,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { hostname } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestAgent, type TestAgent } from "../../src/transport/auth/testing/ssh-agent.js";
import { generateTestKey, type TestKey } from "../../src/transport/auth/testing/ssh-keygen.js";
import {
  type CliResult,
  runCliProcess,
  spawnCli,
  waitForExit,
  waitForLine,
} from "../helpers/cli.js";
import { createTempDir } from "../helpers/temp-dir.js";
import { createSelfSignedCert } from "../helpers/tls.js";
import { waitUntil } from "../helpers/transport.js";

/** A `syncline serve` child and what it printed on start. */
interface ServeChild {
  readonly child: ChildProcess;
  /** ws:// or wss:// base URL of its TCP listener. */
  readonly url: string;
  readonly unixPath: string | undefined;
  readonly hostKey: string;
  /** Its stderr (JSON logs) so far. */
  logs(): string;
}

let dir: { path: string; remove: () => Promise<void> };
let keys: { alice: TestKey; bob: TestKey; mallory: TestKey; locked: TestKey };
let plain: ServeChild;
let tls: ServeChild;
let certFile: string;
let devices = 0;

const fingerprints = new Map<string, string>();

/** `ssh-keygen -lf FILE`'s SHA256 fingerprint (asked once per file). */
function sshKeygenFingerprint(file: string): string {
  let fingerprint = fingerprints.get(file);
  if (fingerprint === undefined) {
    const fields = execFileSync("ssh-keygen", ["-lf", file], { encoding: "utf8" }).split(" ");
    fingerprint = fields[1] as string;
    fingerprints.set(file, fingerprint);
  }
  return fingerprint;
}

function sha256sum(file: string): string {
  return execFileSync("sha256sum", [file], { encoding: "utf8" }).split(" ")[0] as string;
}

async function startServe(name: string, extra: readonly string[]): Promise<ServeChild> {
  const base = join(dir.path, name);
  const child = spawnCli(
    ["serve", "--port", "0", "--authorized-keys", join(dir.path, "authorized_keys")]
      .concat(["--data", join(base, "data"), "--shutdown-timeout", "1000"])
      .concat(extra),
    { env: device(`server-${name}`) },
  );
  let logs = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    logs += chunk.toString();
  });
  const hostKey = (await waitForLine(child, /^host key SHA256:/, 15_000)).slice("host key ".length);
  const http = (await waitForLine(child, /^listening on http/)).slice("listening on ".length);
  const unixLine = extra.includes("--unix")
    ? await waitForLine(child, /^listening on unix:/)
    : undefined;
  return {
    child,
    url: http.replace(/^http/, "ws"),
    unixPath: unixLine?.slice("listening on unix:".length),
    hostKey,
    logs: () => logs,
  };
}

/** A fresh device: its own HOME and config dir, nothing inherited that could pick a key. */
function device(name = `device-${++devices}`, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const home = join(dir.path, "homes", name);
  mkdirSync(home, { recursive: true });
  return {
    HOME: home,
    XDG_CONFIG_HOME: join(home, ".config"),
    SYNCLINE_CONFIG: undefined,
    SSH_AUTH_SOCK: undefined,
    NODE_EXTRA_CA_CERTS: undefined,
    ...extra,
  };
}

/** Collects a child's stdout as raw bytes (spawnCli's collector decodes it as text). */
function rawStdout(child: ChildProcess): () => Buffer {
  const chunks: Buffer[] = [];
  child.stdout?.on("data", (chunk: Buffer) => chunks.push(chunk));
  return () => Buffer.concat(chunks);
}

/** Writes `size` random bytes to a new file in the temp dir. */
function randomFile(name: string, size: number): { path: string; bytes: Buffer } {
  const bytes = randomBytes(size);
  const path = join(dir.path, name);
  writeFileSync(path, bytes);
  return { path, bytes };
}

/** Resolves once `server` has authenticated one more connection of `key` than `before`. */
async function authenticated(server: ServeChild, key: TestKey, before: number): Promise<void> {
  await waitUntil(() => authCount(server, key) > before, `${key.privatePath} to authenticate`);
}

function authCount(server: ServeChild, key: TestKey): number {
  const fingerprint = sshKeygenFingerprint(key.privatePath);
  return server
    .logs()
    .split("\n")
    .filter((line) => line.includes('"wire authenticated"') && line.includes(fingerprint)).length;
}

/** stderr without the notice of a device's first contact with a server (known_hosts). */
function firstContactless(stderr: string): string {
  return stderr.replace(/^syncline: permanently added the host key .*\n/m, "");
}

function json(result: CliResult): Record<string, unknown> {
  return JSON.parse(result.stdout.trim()) as Record<string, unknown>;
}

const send = (args: readonly string[], env: NodeJS.ProcessEnv = device()) =>
  runCliProcess(["send", ...args], { env, input: "" });

const summary = (bytes: number, sha256: string) => ({
  ok: true,
  bytes,
  sha256,
  durationMs: expect.any(Number),
});

/** `send --json`'s summary of a payload nobody was receiving, which the server keeps. */
const keptSummary = (bytes: number, sha256: string) => ({
  ...summary(bytes, sha256),
  delivered: 0,
  kept: true,
});

beforeAll(async () => {
  dir = await createTempDir("syncline-transfer-");
  const keyDir = join(dir.path, "keys");
  mkdirSync(keyDir);
  keys = {
    alice: generateTestKey(keyDir, "ed25519", { name: "alice" }),
    bob: generateTestKey(keyDir, "ecdsa-256", { name: "bob" }),
    mallory: generateTestKey(keyDir, "ed25519", { name: "mallory" }),
    locked: generateTestKey(keyDir, "ed25519", { name: "locked", passphrase: "correct horse" }),
  };
  const admitted = [keys.alice, keys.bob, keys.locked].map((key) => key.publicLine);
  writeFileSync(join(dir.path, "authorized_keys"), `${admitted.join("\n")}\n`);
  const tlsDir = join(dir.path, "tls");
  mkdirSync(tlsDir);
  const cert = createSelfSignedCert(tlsDir);
  certFile = cert.certFile;
  [plain, tls] = await Promise.all([
    startServe("plain", ["--unix", join(dir.path, "s.sock")]),
    startServe("tls", ["--tls-cert", cert.certFile, "--tls-key", cert.keyFile]),
  ]);
});

afterAll(async () => {
  for (const server of [plain, tls]) {
    if (!server) continue;
    server.child.kill("SIGTERM");
    await waitForExit(server.child, 10_000);
  }
  await dir?.remove();
});

describe("send and recv", () => {
  it("send FILE then recv -o OUT: the same bytes, JSON summaries with the sha256sum, exit 0", async () => {
    const file = randomFile("plain.bin", 300 * 1024 + 17);
    const hash = sha256sum(file.path);
    const sent = await send([
      file.path,
      ...["--channel", "c1", "--identity", keys.alice.privatePath, "--server", plain.url, "--json"],
    ]);
    expect(sent.code).toBe(0);
    expect(json(sent)).toEqual(keptSummary(file.bytes.length, hash));

    const out = join(dir.path, "plain.out");
    const received = await runCliProcess(
      ["recv", "--channel", "c1", "-o", out, "--identity", keys.bob.privatePath].concat([
        "--server",
        plain.url,
        "--json",
      ]),
      { env: device() },
    );
    expect(received.code).toBe(0);
    expect(json(received)).toEqual({ ...summary(file.bytes.length, hash), name: "plain.bin" });
    expect(readFileSync(out).equals(file.bytes)).toBe(true);
  });

  it("an empty (0-byte) file: send exits 0 with its summary, recv -o writes an empty file", async () => {
    const file = randomFile("empty.bin", 0);
    const hash = sha256sum(file.path);
    const args = ["--channel", "empty", "--server", plain.url];
    const sent = await send([file.path, ...args, "--identity", keys.alice.privatePath]);
    expect(sent.code, sent.stderr).toBe(0);
    expect(firstContactless(sent.stderr)).toBe(
      `sent 0 bytes to empty (sha256 ${hash}): delivered to 0 receivers, kept for later receivers\n`,
    );
    const out = join(dir.path, "empty.out");
    const received = await runCliProcess(
      ["recv", ...args, "-o", out, "--identity", keys.bob.privatePath, "--json"],
      { env: device() },
    );
    expect(received.code, received.stderr).toBe(0);
    expect(json(received)).toEqual({ ...summary(0, hash), name: "empty.bin" });
    expect(readFileSync(out).length).toBe(0);
  });

  it("a receiver started first (no --follow) waits, takes the next payload and exits 0", async () => {
    const out = join(dir.path, "waiting.out");
    const before = authCount(plain, keys.bob);
    const receiver = spawnCli(
      ["recv", "--channel", "waiting", "-o", out, "--identity", keys.bob.privatePath].concat([
        "--server",
        plain.url,
        "--json",
      ]),
      { env: device() },
    );
    await authenticated(plain, keys.bob, before);
    expect(receiver.exitCode).toBeNull(); // nothing on the channel yet: it is waiting

    const file = randomFile("waiting.bin", 1000);
    const sent = await send([
      file.path,
      ...["--channel", "waiting", "--identity", keys.alice.privatePath, "--server", plain.url],
    ]);
    expect(sent.code).toBe(0);
    const result = await waitForExit(receiver, 10_000);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject(summary(1000, sha256sum(file.path)));
    expect(readFileSync(out).equals(file.bytes)).toBe(true);
  });

  it("send - reads stdin; recv -o - writes exactly the payload's bytes to stdout", async () => {
    const bytes = randomBytes(200 * 1024 + 3); // every byte value, not text
    const sender = spawnCli(
      ["send", "-", "--channel", "pipe", "--identity", keys.alice.privatePath].concat([
        "--server",
        plain.url,
        "--json",
      ]),
      { env: device() },
    );
    sender.stdin?.end(bytes);
    const sent = await waitForExit(sender, 15_000);
    expect(sent.code).toBe(0);
    const hash = execFileSync("sha256sum", { input: bytes, encoding: "utf8" }).split(" ")[0];
    expect(json(sent)).toEqual(keptSummary(bytes.length, hash as string));

    const receiver = spawnCli(
      ["recv", "--channel", "pipe", "-o", "-", "--identity", keys.bob.privatePath].concat([
        "--server",
        plain.url,
      ]),
      { env: device() },
    );
    const stdout = rawStdout(receiver);
    const received = await waitForExit(receiver, 15_000);
    expect(received.code).toBe(0);
    expect(stdout().equals(bytes)).toBe(true);
  });

  it("recv -o - whose reader leaves mid-payload (| head -c) ends quietly with 0", async () => {
    const file = randomFile("head.bin", 8 * 1024 * 1024);
    const args = ["--channel", "head", "--server", plain.url];
    expect((await send([file.path, ...args, "--identity", keys.alice.privatePath])).code).toBe(0);
    const receiver = spawnCli(["recv", ...args, "-o", "-", "--identity", keys.bob.privatePath], {
      env: device(),
    });
    // Like `head -c 1000`: take the first bytes, then close the pipe.
    await new Promise<void>((resolve) => receiver.stdout?.once("data", () => resolve()));
    receiver.stdout?.destroy();
    const result = await waitForExit(receiver, 10_000);
    expect(result.code).toBe(0);
    // No error, no stack.
    expect(firstContactless(result.stderr)).not.toMatch(/EPIPE|error|syncline:|\n\s+at /i);
  });

  it("recv --follow -o OUT takes successive payloads, one JSON line each, and exits 0 on SIGINT", async () => {
    const out = join(dir.path, "follow", "latest.bin");
    mkdirSync(join(dir.path, "follow"));
    const before = authCount(plain, keys.bob);
    const receiver = spawnCli(
      [
        "recv",
        "--channel",
        "follow",
        "--follow",
        "-o",
        out,
        "--identity",
        keys.bob.privatePath,
      ].concat(["--server", plain.url, "--json"]),
      { env: device() },
    );
    await authenticated(plain, keys.bob, before);
    const sender = device();
    for (const [index, size] of [4000, 2500].entries()) {
      const file = randomFile(`follow-${index}.bin`, size);
      const hash = sha256sum(file.path);
      const args = ["--channel", "follow", "--identity", keys.alice.privatePath];
      expect((await send([file.path, ...args, "--server", plain.url], sender)).code).toBe(0);
      await waitForLine(receiver, new RegExp(hash));
      expect(readFileSync(out).equals(file.bytes)).toBe(true); // replaced, not appended
    }
    expect(receiver.exitCode).toBeNull();
    receiver.kill("SIGINT");
    const result = await waitForExit(receiver, 10_000);
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines.map((line) => JSON.parse(line).bytes)).toEqual([4000, 2500]);
    expect(readdirSync(join(dir.path, "follow"))).toEqual(["latest.bin"]); // no .part left
  });

  it("recv without --follow on the device that sent the channel's latest payload takes it", async () => {
    const laptop = device();
    const file = randomFile("own.bin", 2000);
    const args = ["--channel", "own", "--server", plain.url];
    expect(
      (await send([file.path, ...args, "--identity", keys.alice.privatePath], laptop)).code,
    ).toBe(0);
    const out = join(dir.path, "own.out");
    const received = await runCliProcess(
      ["recv", ...args, "-o", out, "--identity", keys.bob.privatePath, "--json"],
      { env: laptop, timeoutMs: 8_000 },
    );
    expect(received.code).toBe(0);
    expect(json(received)).toMatchObject(summary(2000, sha256sum(file.path)));
    expect(readFileSync(out).equals(file.bytes)).toBe(true);
  });

  it("recv --follow skips the payloads of its own device, saying so once on stderr (not with --json)", async () => {
    const laptop = device();
    const args = ["--channel", "own-follow", "--server", plain.url];
    const out = join(dir.path, "own-follow.out");
    const outJson = join(dir.path, "own-follow-json.out");
    const before = authCount(plain, keys.bob);
    const follower = spawnCli(
      ["recv", ...args, "--follow", "-o", out, "--identity", keys.bob.privatePath],
      { env: laptop },
    );
    const jsonFollower = spawnCli(
      ["recv", ...args, "--follow", "-o", outJson, "--identity", keys.bob.privatePath, "--json"],
      { env: laptop },
    );
    await authenticated(plain, keys.bob, before + 1);
    const identity = ["--identity", keys.alice.privatePath];
    for (const name of ["own-1.bin", "own-2.bin"]) {
      expect((await send([randomFile(name, 1000).path, ...args, ...identity], laptop)).code).toBe(
        0,
      );
    }
    const other = randomFile("other.bin", 1500);
    expect((await send([other.path, ...args, ...identity])).code).toBe(0); // another device
    await waitForLine(jsonFollower, new RegExp(sha256sum(other.path)));
    await waitUntil(() => existsSync(out), "the follower to write the other device's payload");
    follower.kill("SIGINT");
    jsonFollower.kill("SIGINT");
    const [plainResult, jsonResult] = await Promise.all([
      waitForExit(follower, 10_000),
      waitForExit(jsonFollower, 10_000),
    ]);
    expect(plainResult.code).toBe(0);
    const skipped = plainResult.stderr.split("\n").filter((line) => /this device/.test(line));
    expect(skipped).toEqual([
      "recv: skipping payloads sent from this device on own-follow (--follow never takes its own back)",
    ]);
    expect(readFileSync(out).equals(other.bytes)).toBe(true);
    expect(jsonResult.code).toBe(0);
    expect(firstContactless(jsonResult.stderr)).toBe("");
    expect(jsonResult.stdout.trim().split("\n")).toHaveLength(1); // only the other device's
  });

  it("recv without --follow interrupted before any payload exits 130, writing nothing", async () => {
    const out = join(dir.path, "never.out");
    const before = authCount(plain, keys.bob);
    const receiver = spawnCli(
      ["recv", "--channel", "never", "-o", out, "--identity", keys.bob.privatePath].concat([
        "--server",
        plain.url,
      ]),
      { env: device() },
    );
    await authenticated(plain, keys.bob, before);
    receiver.kill("SIGINT");
    const result = await waitForExit(receiver, 10_000);
    expect(result.code).toBe(130);
    expect(result.stderr).toContain("recv: SIGINT before a payload arrived on channel never");
    expect(existsSync(out)).toBe(false);
  });

  it("--server unix:/path.sock works for send and recv", async () => {
    const file = randomFile("unix.bin", 5000);
    const server = `unix:${plain.unixPath}`;
    const args = ["--channel", "unix", "--server", server, "--json"];
    const sent = await send([file.path, ...args, "--identity", keys.alice.privatePath]);
    expect(sent.code).toBe(0);
    const out = join(dir.path, "unix.out");
    const received = await runCliProcess(
      ["recv", ...args, "-o", out, "--identity", keys.bob.privatePath],
      { env: device() },
    );
    expect(received.code).toBe(0);
    expect(json(received)).toMatchObject(summary(5000, sha256sum(file.path)));
    expect(readFileSync(out).equals(file.bytes)).toBe(true);
  });

  it("a 2 MiB transfer draws no progress bar when stderr is not a terminal", async () => {
    const file = randomFile("big.bin", 2 * 1024 * 1024);
    const args = ["--channel", "big", "--server", plain.url];
    const sent = await send([file.path, ...args, "--identity", keys.alice.privatePath]);
    expect(sent.code).toBe(0);
    expect(sent.stderr).not.toContain("\r");
    expect(firstContactless(sent.stderr)).toBe(
      `sent ${2 * 1024 * 1024} bytes to big (sha256 ${sha256sum(file.path)}): delivered to 0 receivers, kept for later receivers\n`,
    );
    const out = join(dir.path, "big.out");
    const received = await runCliProcess(
      ["recv", ...args, "-o", out, "--identity", keys.bob.privatePath],
      { env: device() },
    );
    expect(received.code).toBe(0);
    expect(received.stderr).not.toContain("\r");
    expect(firstContactless(received.stderr)).toMatch(/^received 2097152 bytes into .*\n$/);
    expect(readFileSync(out).equals(file.bytes)).toBe(true);
  });
});

describe("recv -o checks", () => {
  /** A fresh folder to run recv in, so anything it leaves behind shows. */
  function workDir(name: string): string {
    const path = join(dir.path, name);
    mkdirSync(path);
    return path;
  }

  /** Publishes a small payload on `channel`, so a recv there would have something to write. */
  async function publish(channel: string): Promise<void> {
    const file = randomFile(`${channel}.bin`, 5000);
    const args = ["--channel", channel, "--identity", keys.alice.privatePath];
    expect((await send([file.path, ...args, "--server", plain.url])).code).toBe(0);
  }

  const recvArgs = (channel: string, output: string) =>
    ["recv", "--channel", channel, "-o", output, "--identity", keys.bob.privatePath].concat([
      "--server",
      plain.url,
    ]);

  it("-o an existing directory exits 2 (ERR_USAGE) naming it; nothing is created, in it or in the cwd", async () => {
    await publish("odir");
    const work = workDir("odir-work");
    mkdirSync(join(work, "out"));
    const result = await runCliProcess([...recvArgs("odir", "out"), "--json"], {
      cwd: work,
      env: device(),
    });
    expect(result.code).toBe(2);
    expect(json(result)).toEqual({
      ok: false,
      error: { code: "ERR_USAGE", message: "recv: -o out is a directory; give a file path" },
    });
    expect(readdirSync(work)).toEqual(["out"]);
    expect(readdirSync(join(work, "out"))).toEqual([]);
  });

  it("-o missing/x (no such folder) exits 2 with one line naming the folder; nothing is created", async () => {
    await publish("omissing");
    const work = workDir("omissing-work");
    const result = await runCliProcess(recvArgs("omissing", join("missing", "x")), {
      cwd: work,
      env: device(),
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      `syncline: recv: -o missing/x: folder ${join(work, "missing")} does not exist\n`,
    );
    expect(readdirSync(work)).toEqual([]);
  });

  it("-o in a folder the user cannot write exits 2 (ERR_LOCAL_FILE) saying permission denied", async () => {
    await publish("oro");
    // Run as nobody when we are root (root writes anywhere), with a home and a key of its own.
    const open = await createTempDir("syncline-recv-ro-");
    try {
      chmodSync(open.path, 0o755);
      const home = join(open.path, "home");
      mkdirSync(home);
      const identity = join(home, "id");
      copyFileSync(keys.bob.privatePath, identity);
      if (process.getuid?.() === 0) execFileSync("chown", ["-R", "65534:65534", home]);
      const readOnly = join(open.path, "ro");
      mkdirSync(readOnly);
      chmodSync(readOnly, 0o555);
      const output = join(readOnly, "out.bin");
      const args = ["recv", "--channel", "oro", "-o", output, "--identity", identity];
      const result = await runCliProcess([...args, "--server", plain.url, "--json"], {
        env: { ...device(), HOME: home, XDG_CONFIG_HOME: join(home, ".config") },
        unprivileged: true,
      });
      expect(result.code).toBe(2);
      expect(json(result)).toEqual({
        ok: false,
        error: {
          code: "ERR_LOCAL_FILE",
          message: `recv: -o ${output}: cannot write in folder ${readOnly} (permission denied)`,
        },
      });
      expect(readdirSync(readOnly)).toEqual([]);
    } finally {
      await open.remove();
    }
  });

  it("writes into a part file in the output's folder, named with a local suffix (nothing from the peer)", async () => {
    const file = randomFile("part.bin", 3 * 1024 * 1024);
    const args = ["--channel", "opart", "--identity", keys.alice.privatePath];
    expect((await send([file.path, ...args, "--server", plain.url])).code).toBe(0);
    const work = workDir("opart-work");
    const folder = join(work, "into");
    mkdirSync(folder);
    const seen = new Set<string>();
    const watcher = watch(folder, (_event, name) => {
      if (name) seen.add(name.toString());
    });
    try {
      const result = await runCliProcess(recvArgs("opart", join("into", "out.bin")), {
        cwd: work,
        env: device(),
      });
      expect(result.code, result.stderr).toBe(0);
    } finally {
      watcher.close();
    }
    expect(readFileSync(join(folder, "out.bin")).equals(file.bytes)).toBe(true);
    const parts = [...seen].filter((name) => name !== "out.bin");
    expect(parts.length).toBeGreaterThan(0);
    for (const name of parts) {
      expect(name).toMatch(/^\.out\.bin\.[0-9a-f]+\.part$/);
      // The sender's transferId is a UUID; no part of the name may come from the peer.
      expect(name).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-/);
    }
    expect(readdirSync(work)).toEqual(["into"]);
    expect(readdirSync(folder)).toEqual(["out.bin"]);
  });
});

describe("wss:// and --ca", () => {
  it("refuses the self-signed server without --ca (exit 3), trusts it with --ca", async () => {
    const file = randomFile("tls.bin", 3000);
    const args = ["--channel", "tls", "--server", tls.url];
    expect(args[3]).toMatch(/^wss:\/\/127\.0\.0\.1:\d+$/);
    const untrusted = await send([
      file.path,
      ...args,
      ...["--identity", keys.alice.privatePath, "--retries", "0", "--json"],
    ]);
    expect(untrusted.code).toBe(3);
    expect(json(untrusted)).toMatchObject({
      ok: false,
      error: { code: "ERR_CONNECT", message: expect.stringMatching(/certificate/) },
    });

    const sent = await send([
      file.path,
      ...args,
      ...["--identity", keys.alice.privatePath, "--ca", certFile, "--json"],
    ]);
    expect(sent.code).toBe(0);
    const out = join(dir.path, "tls.out");
    const received = await runCliProcess(
      ["recv", ...args, "-o", out, "--identity", keys.bob.privatePath, "--ca", certFile],
      { env: device() },
    );
    expect(received.code).toBe(0);
    expect(readFileSync(out).equals(file.bytes)).toBe(true);
  });

  it("takes server, ca and identity from [transport] in the config file", async () => {
    const env = device();
    const configDir = join(env.XDG_CONFIG_HOME as string, "syncline");
    mkdirSync(configDir, { recursive: true });
    writeFileSync(
      join(configDir, "config.toml"),
      [
        "[transport]",
        `server = "${tls.url}"`,
        `ca = "${certFile}"`,
        `identity = "${keys.alice.privatePath}"`,
      ].join("\n"),
    );
    const file = randomFile("config.bin", 100);
    const sent = await send([file.path, "--channel", "config", "--json"], env);
    expect(sent.code).toBe(0);
    expect(json(sent)).toEqual(keptSummary(100, sha256sum(file.path)));
  });

  it("an unreadable --ca exits 2 naming the file; --help documents --ca", async () => {
    const missing = join(dir.path, "no-such-ca.pem");
    const result = await send([
      randomFile("ca.bin", 10).path,
      ...["--channel", "ca", "--identity", keys.alice.privatePath, "--ca", missing],
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(missing);
    for (const command of ["send", "recv"]) {
      const help = await runCliProcess([command, "--help"], { env: device() });
      expect(help.stdout).toMatch(/--ca <file>\s+PEM CA certificate/);
    }
  });
});

describe("server authentication", () => {
  it("--server-fingerprint with the server's host key works; a wrong one exits 8", async () => {
    const file = randomFile("pinned.bin", 100);
    const args = [file.path, "--channel", "pinned", "--identity", keys.alice.privatePath];
    const right = await send([
      ...args,
      "--server",
      plain.url,
      "--server-fingerprint",
      plain.hostKey,
    ]);
    expect(right.code).toBe(0);

    const wrong = await send([
      ...args,
      ...["--server", plain.url, "--server-fingerprint", tls.hostKey],
    ]);
    expect(wrong.code).toBe(8);
    expect(wrong.stderr).toMatch(/host key/);
    expect(wrong.stderr).toContain(plain.hostKey); // what the server presented
    expect(wrong.stderr).toContain(tls.hostKey); // what was pinned
    const wrongJson = await send([
      ...args,
      ...["--server", plain.url, "--server-fingerprint", tls.hostKey, "--json"],
    ]);
    expect(wrongJson.code).toBe(8);
    expect(json(wrongJson)).toEqual({
      ok: false,
      error: { code: "ERR_AUTH_HOST_KEY", message: expect.stringContaining("host key") },
    });
  });
});

describe("failures", () => {
  it("a key not in authorized_keys exits 8 naming its fingerprint", async () => {
    const fingerprint = sshKeygenFingerprint(keys.mallory.privatePath);
    const args = ["--channel", "c1", "--identity", keys.mallory.privatePath, "--server", plain.url];
    const result = await runCliProcess(["recv", ...args, "-o", join(dir.path, "x")], {
      env: device(),
    });
    expect(result.code).toBe(8);
    expect(result.stderr).toContain(fingerprint);
    const sent = await send([randomFile("m.bin", 10).path, ...args, "--json"]);
    expect(sent.code).toBe(8);
    expect(json(sent)).toEqual({
      ok: false,
      error: { code: "ERR_AUTH_NOT_AUTHORIZED", message: expect.stringContaining(fingerprint) },
    });
  });

  it("nothing listening, with --retries 1, exits 3 within a few seconds", async () => {
    const port = await closedPort();
    const started = Date.now();
    const result = await send([
      randomFile("closed.bin", 10).path,
      ...["--channel", "c", "--identity", keys.alice.privatePath, "--retries", "1"],
      ...["--server", `ws://127.0.0.1:${port}`, "--json"],
    ]);
    expect(result.code).toBe(3);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(json(result)).toEqual({
      ok: false,
      error: { code: "ERR_CONNECT", message: expect.stringContaining(`127.0.0.1:${port}`) },
    });
  });

  it("usage errors exit 2: a non-ws server URL, a bad channel, a missing file", async () => {
    const file = randomFile("usage.bin", 10).path;
    const identity = ["--identity", keys.alice.privatePath];
    const [http, channel, recvChannel, missing, missingJson] = await Promise.all([
      send([file, "--channel", "c", ...identity, "--server", "ftp://x"]),
      send([file, "--channel", "bad name!", ...identity, "--server", plain.url]),
      runCliProcess(
        ["recv", "--channel", "bad name!", "-o", join(dir.path, "y"), ...identity].concat([
          "--server",
          plain.url,
          "--json",
        ]),
        { env: device() },
      ),
      send([join(dir.path, "missing.bin"), "--channel", "c", ...identity, "--server", plain.url]),
      send([join(dir.path, "missing.bin"), "--channel", "c", ...identity, "--json"]),
    ]);
    expect(http.code).toBe(2);
    expect(http.stderr).toContain('"ftp://x"');
    expect(channel.code).toBe(2);
    expect(channel.stderr).toContain('"bad name!"');
    expect(recvChannel.code).toBe(2);
    expect(json(recvChannel)).toMatchObject({ ok: false, error: { code: "ERR_INVALID_CHANNEL" } });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(join(dir.path, "missing.bin"));
    expect(missingJson.code).toBe(2);
    expect(json(missingJson)).toEqual({
      ok: false,
      error: { code: "ERR_USAGE", message: expect.stringContaining("missing.bin") },
    });
  });

  it("an encrypted key with no terminal exits 2 telling to use ssh-agent", async () => {
    const args = ["--channel", "c", "--identity", keys.locked.privatePath, "--server", plain.url];
    const result = await send([randomFile("locked.bin", 10).path, ...args, "--json"]);
    expect(result.code).toBe(2);
    expect(json(result)).toEqual({
      ok: false,
      error: { code: "ERR_AUTH_PASSPHRASE", message: expect.stringContaining("ssh-agent") },
    });
    expect(json(result).error).toMatchObject({
      message: expect.stringContaining(`ssh-add ${keys.locked.privatePath}`),
    });
  });
});

describe("identity resolution", () => {
  let agent: TestAgent;
  beforeAll(async () => {
    const agentDir = join(dir.path, "agent");
    mkdirSync(agentDir);
    agent = await startTestAgent(agentDir);
  });
  afterAll(async () => {
    await agent?.stop();
  });

  /** A device whose ~/.ssh/id_ed25519 is `key`. */
  function deviceWithDefaultKey(key: TestKey, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    const env = device(undefined, extra);
    mkdirSync(join(env.HOME as string, ".ssh"), { mode: 0o700 });
    copyFileSync(key.privatePath, join(env.HOME as string, ".ssh", "id_ed25519"));
    return env;
  }

  it("uses ~/.ssh/id_ed25519 of HOME when there is no --identity and no agent", async () => {
    const file = randomFile("default.bin", 100);
    const env = deviceWithDefaultKey(keys.alice);
    const args = ["--channel", "default", "--server", plain.url, "--json"];
    const sent = await send([file.path, ...args], env);
    expect(sent.code).toBe(0);
    // mallory's key by default is refused: the default file really is what signs.
    const refused = await send([file.path, ...args], deviceWithDefaultKey(keys.mallory));
    expect(refused.code).toBe(8);
  });

  it("prefers an ssh-agent key (SSH_AUTH_SOCK) over ~/.ssh/id_ed25519, and --identity over both", async () => {
    agent.add(keys.alice.privatePath);
    const file = randomFile("agent.bin", 100);
    const env = deviceWithDefaultKey(keys.mallory, { SSH_AUTH_SOCK: agent.socketPath });
    const args = ["--channel", "agent", "--server", plain.url, "--json"];
    const viaAgent = await send([file.path, ...args], env);
    expect(viaAgent.code).toBe(0);
    const fingerprint = await runCliProcess(["keys", "fingerprint", "--json"], { env });
    expect(json(fingerprint)).toMatchObject({
      ok: true,
      fingerprint: sshKeygenFingerprint(keys.alice.privatePath),
      source: `ssh-agent ${agent.socketPath}`,
    });
    const explicit = await send([file.path, ...args, "--identity", keys.mallory.privatePath], env);
    expect(explicit.code).toBe(8);
    agent.removeAll();
  });
});

describe("keys fingerprint", () => {
  it("prints ssh-keygen's SHA256 fingerprint and an authorized_keys line with the key's comment, for private and public files", async () => {
    for (const key of [keys.alice, keys.bob]) {
      const expected = sshKeygenFingerprint(key.privatePath);
      const [type, base64] = key.publicLine.split(" ");
      for (const file of [key.privatePath, `${key.privatePath}.pub`]) {
        const result = await runCliProcess(["keys", "fingerprint", file], { env: device() });
        expect(result.code).toBe(0);
        const [first, second] = result.stdout.trim().split("\n");
        expect(first).toBe(`${expected} ${type} ${file} (device ${hostname()})`);
        // The line keeps the key's own comment (ssh-keygen -C), as ssh-keygen -y and ssh-add -L.
        expect(second).toBe(`${type} ${base64} test@${key.kind}`);
      }
    }
  });

  it("reads the public half of an encrypted OpenSSH key without its passphrase", async () => {
    const result = await runCliProcess(["keys", "fingerprint", keys.locked.privatePath], {
      env: device(),
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(sshKeygenFingerprint(keys.locked.privatePath));
  });

  it("--json prints {ok, fingerprint, type, source, device, authorizedKeysLine}", async () => {
    const file = `${keys.bob.privatePath}.pub`;
    const result = await runCliProcess(
      ["keys", "fingerprint", file, "--json", "--device-name", "laptop"],
      { env: device() },
    );
    expect(result.code).toBe(0);
    const [type, base64] = keys.bob.publicLine.split(" ");
    expect(json(result)).toEqual({
      ok: true,
      fingerprint: sshKeygenFingerprint(file),
      type,
      source: file,
      device: "laptop",
      authorizedKeysLine: `${type} ${base64} test@ecdsa-256`,
    });
  });

  it("with no argument uses the identity resolution: ~/.ssh/id_ed25519 of HOME", async () => {
    const env = device();
    const sshDir = join(env.HOME as string, ".ssh");
    mkdirSync(sshDir, { mode: 0o700 });
    copyFileSync(keys.alice.privatePath, join(sshDir, "id_ed25519"));
    const result = await runCliProcess(["keys", "fingerprint"], { env });
    expect(result.code).toBe(0);
    expect(result.stdout.split("\n")[0]).toBe(
      `${sshKeygenFingerprint(keys.alice.privatePath)} ssh-ed25519 ${join(sshDir, "id_ed25519")} (device ${hostname()})`,
    );
    const none = await runCliProcess(["keys", "fingerprint", "--json"], { env: device() });
    expect(none.code).toBe(2);
    expect(json(none)).toMatchObject({ ok: false, error: { code: "ERR_AUTH_NO_IDENTITY" } });
  });
});

/** A TCP port nothing listens on (bound, then released). */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
