// The transport's client side as users meet it, with the built CLI against a real server: where
// `recv -o` writes (FIFOs, devices, symlinks), which keys are offered from ssh-agent, and the
// modes of the folders and files the CLI and the server create.

import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  copyFileSync,
  createReadStream,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestAgent, type TestAgent } from "../../src/transport/auth/testing/ssh-agent.js";
import { generateTestKey, type TestKey } from "../../src/transport/auth/testing/ssh-keygen.js";
import { type CliResult, cliPath, runCliProcess, startServe, stopServe } from "../helpers/cli.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { createTempDir } from "../helpers/temp-dir.js";

let dir: { path: string; remove: () => Promise<void> };
let keys: { alice: TestKey; mallory: TestKey; locked: TestKey; lockedPlain: string };
let authorizedKeys: string;
let server: TestServer;
let url: string;
let agent: TestAgent;
let devices = 0;

beforeAll(async () => {
  dir = await createTempDir("syncline-tclient-");
  const keyDir = join(dir.path, "keys");
  mkdirSync(keyDir);
  const locked = generateTestKey(keyDir, "ed25519", { name: "locked", passphrase: "sesame" });
  // The same key without its passphrase, for ssh-add (which would ask on a terminal).
  const lockedPlain = join(keyDir, "locked-plain");
  copyFileSync(locked.privatePath, lockedPlain);
  execFileSync("ssh-keygen", ["-p", "-q", "-P", "sesame", "-N", "", "-f", lockedPlain]);
  keys = {
    alice: generateTestKey(keyDir, "ed25519", { name: "alice" }),
    mallory: generateTestKey(keyDir, "ed25519", { name: "mallory" }),
    locked,
    lockedPlain,
  };
  authorizedKeys = join(dir.path, "authorized_keys");
  writeFileSync(authorizedKeys, `${keys.alice.publicLine}\n${keys.locked.publicLine}\n`);
  server = await startTestServer({ authorizedKeys });
  url = server.server.url.replace(/^http/, "ws");
  agent = await startTestAgent(dir.path);
});

afterAll(async () => {
  await agent?.stop();
  await server?.stop();
  await dir?.remove();
});

/** A fresh device: its own HOME (nothing under it yet), no XDG_CONFIG_HOME, no agent. */
function device(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const home = join(dir.path, "homes", `device-${++devices}`);
  mkdirSync(home, { recursive: true });
  return {
    HOME: home,
    XDG_CONFIG_HOME: undefined,
    SYNCLINE_CONFIG: undefined,
    SSH_AUTH_SOCK: undefined,
    ...extra,
  };
}

function json(result: CliResult): Record<string, unknown> {
  return JSON.parse(result.stdout.trim()) as Record<string, unknown>;
}

function modeOf(path: string): string {
  return (statSync(path).mode & 0o777).toString(8);
}

/** Sends `bytes` on `channel` as alice; expects success. */
async function publish(channel: string, bytes: Buffer): Promise<void> {
  const file = join(dir.path, `${channel}.in`);
  writeFileSync(file, bytes);
  const args = [file, "--channel", channel, "--identity", keys.alice.privatePath];
  const sent = await runCliProcess(["send", ...args, "--server", url], {
    env: device(),
    input: "",
  });
  expect(sent.code, sent.stderr).toBe(0);
}

const recv = (channel: string, output: string, env = device()) =>
  runCliProcess(
    ["recv", "--channel", channel, "-o", output, "--identity", keys.alice.privatePath].concat([
      "--server",
      url,
      "--json",
    ]),
    { env },
  );

/** Fails under CI (which must be able to run it), skips with the reason elsewhere. */
function requireOrSkip(ok: boolean, reason: string, skip: (note: string) => void): void {
  if (ok) return;
  if (process.env.CI === "true") throw new Error(`cannot run here: ${reason}`);
  skip(reason);
}

describe("recv -o writes as users expect", () => {
  it("onto a FIFO: the payload goes into it, to its reader, and the path stays a FIFO", async () => {
    const work = join(dir.path, "fifo");
    mkdirSync(work);
    const fifo = join(work, "pipe");
    execFileSync("mkfifo", [fifo]);
    const payload = randomBytes(200_000);
    await publish("to-fifo", payload);
    const chunks: Buffer[] = [];
    const reader = createReadStream(fifo);
    reader.on("data", (chunk) => chunks.push(chunk as Buffer));
    const drained = new Promise<void>((resolve) => reader.on("close", () => resolve()));
    const result = await recv("to-fifo", fifo);
    expect(result.code, result.stderr).toBe(0);
    await drained;
    expect(Buffer.concat(chunks).equals(payload)).toBe(true);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    expect(readdirSync(work)).toEqual(["pipe"]);
  });

  it("onto a character device (mknod c 1 3 in a temp folder): written to, never replaced", async ({
    skip,
  }) => {
    const work = join(dir.path, "chardev");
    mkdirSync(work);
    const nullDevice = join(work, "null");
    let made = true;
    try {
      execFileSync("mknod", [nullDevice, "c", "1", "3"], { stdio: "pipe" });
    } catch {
      made = false;
    }
    requireOrSkip(made, "mknod needs root (CAP_MKNOD)", skip);
    await publish("to-device", randomBytes(50_000));
    const result = await recv("to-device", nullDevice);
    expect(result.code, result.stderr).toBe(0);
    expect(json(result)).toMatchObject({ ok: true, bytes: 50_000 });
    const after = lstatSync(nullDevice);
    expect(after.isCharacterDevice()).toBe(true);
    expect(after.rdev).toBe(statSync("/dev/null").rdev);
    expect(readdirSync(work)).toEqual(["null"]);
  });

  it("onto /dev/stdout in a shell pipeline (a link to a pipe): the payload goes down the pipe", async () => {
    const payload = randomBytes(100_000);
    await publish("to-stdout-link", payload);
    const output = join(dir.path, "from-pipe.bin");
    const recvArgs = ["recv", "--channel", "to-stdout-link", "-o", "/dev/stdout"].concat([
      "--identity",
      keys.alice.privatePath,
      "--server",
      url,
    ]);
    const quoted = [process.execPath, cliPath(), ...recvArgs].map((arg) => `'${arg}'`).join(" ");
    // Asynchronously: the server runs in this process and must keep answering meanwhile.
    const shell = spawn("sh", ["-c", `${quoted} | cat > '${output}'`], {
      env: { ...process.env, ...device() },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    shell.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const status = await new Promise<number | null>((resolve) => shell.on("close", resolve));
    expect(status, stderr).toBe(0);
    expect(readFileSync(output).equals(payload)).toBe(true);
  });

  it("onto a symlink: the file it points to is replaced atomically and the link stays", async () => {
    const work = join(dir.path, "symlink");
    mkdirSync(join(work, "real"), { recursive: true });
    const target = join(work, "real", "notes.txt");
    writeFileSync(target, "old", { mode: 0o644 });
    const link = join(work, "notes");
    symlinkSync(join("real", "notes.txt"), link);
    const payload = randomBytes(10_000);
    await publish("to-link", payload);
    const result = await recv("to-link", link);
    expect(result.code, result.stderr).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe(join("real", "notes.txt"));
    expect(readFileSync(target).equals(payload)).toBe(true);
    expect(modeOf(target)).toBe("644"); // the file replaced keeps its mode
    expect(readdirSync(join(work, "real"))).toEqual(["notes.txt"]);
  });

  it("onto a regular file: replaced atomically, keeping its mode; a new file is 0600", async () => {
    const work = join(dir.path, "regular");
    mkdirSync(work);
    const existing = join(work, "shared.bin");
    writeFileSync(existing, "old", { mode: 0o640 });
    const payload = randomBytes(5000);
    await publish("to-file", payload);
    expect((await recv("to-file", existing)).code).toBe(0);
    expect(readFileSync(existing).equals(payload)).toBe(true);
    expect(modeOf(existing)).toBe("640");
    const fresh = join(work, "fresh.bin");
    expect((await recv("to-file", fresh)).code).toBe(0);
    expect(modeOf(fresh)).toBe("600");
  });
});

describe("keys from ssh-agent", () => {
  it("offers every agent key in turn: an unauthorized first key does not stop an authorized one", async () => {
    agent.removeAll();
    agent.add(keys.mallory.privatePath);
    agent.add(keys.alice.privatePath);
    const file = join(dir.path, "agent-order.bin");
    writeFileSync(file, randomBytes(100));
    const env = device({ SSH_AUTH_SOCK: agent.socketPath });
    const args = ["send", file, "--channel", "agent-order", "--server", url, "--verbose"];
    const result = await runCliProcess(args, { env, input: "" });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/debug: offering key SHA256:\S+ "test@ed25519" from ssh-agent/);
    expect(result.stderr).toMatch(/refused: .*not authorized.*; trying the next key/);
    agent.removeAll();
  });

  it("--identity KEY uses the agent's copy when it holds it: no passphrase, and KEY may be the .pub", async () => {
    agent.removeAll();
    agent.add(keys.lockedPlain);
    const file = join(dir.path, "agent-identity.bin");
    writeFileSync(file, randomBytes(100));
    const env = device({ SSH_AUTH_SOCK: agent.socketPath });
    for (const identity of [keys.locked.privatePath, `${keys.locked.privatePath}.pub`]) {
      const args = ["send", file, "--channel", "agent-identity", "--identity", identity];
      const result = await runCliProcess([...args, "--server", url], { env, input: "" });
      expect(result.code, `${identity}: ${result.stderr}`).toBe(0);
    }
    agent.removeAll();
    // Without the agent, a .pub cannot sign: said at once, with what to do.
    const alone = await runCliProcess(
      ["send", file, "--channel", "c", "--identity", `${keys.locked.privatePath}.pub`].concat([
        "--server",
        url,
        "--json",
      ]),
      { env: device(), input: "" },
    );
    expect(alone.code).toBe(2);
    expect(json(alone)).toMatchObject({
      ok: false,
      error: { code: "ERR_AUTH_KEY_FILE", message: expect.stringContaining("ssh-add") },
    });
  });

  it("an agent that refuses to sign (ssh-add -c, denied) ends at once with ERR_AUTH_AGENT, not retried", async () => {
    agent.removeAll();
    agent.add(keys.alice.privatePath, { confirm: true });
    const file = join(dir.path, "agent-confirm.bin");
    writeFileSync(file, randomBytes(100));
    const env = device({ SSH_AUTH_SOCK: agent.socketPath });
    const started = Date.now();
    const result = await runCliProcess(
      ["send", file, "--channel", "confirm", "--server", url, "--json"],
      { env, input: "" },
    );
    expect(Date.now() - started).toBeLessThan(3000);
    expect(result.code).toBe(2);
    expect(result.stderr).not.toContain("retrying");
    expect(json(result)).toMatchObject({
      ok: false,
      error: { code: "ERR_AUTH_AGENT", message: expect.stringContaining("ssh-add -c") },
    });
    agent.removeAll();
  });

  it("keys fingerprint keeps the agent key's own comment in the authorized_keys line", async () => {
    agent.removeAll();
    agent.add(keys.alice.privatePath);
    const env = device({ SSH_AUTH_SOCK: agent.socketPath });
    const result = await runCliProcess(["keys", "fingerprint", "--json"], { env });
    expect(result.code).toBe(0);
    const [type, base64, comment] = keys.alice.publicLine.split(" ");
    expect(comment).toBe("test@ed25519");
    expect(json(result)).toMatchObject({
      source: `ssh-agent ${agent.socketPath}`,
      authorizedKeysLine: `${type} ${base64} test@ed25519`,
    });
    agent.removeAll();
  });
});

describe("folders and files the CLI and the server create are private", () => {
  it("send creates ~/.config/syncline 0700 with device-id and known_hosts 0600", async () => {
    const env = device();
    const file = join(dir.path, "modes.bin");
    writeFileSync(file, randomBytes(10));
    const args = ["send", file, "--channel", "modes", "--identity", keys.alice.privatePath];
    const result = await runCliProcess([...args, "--server", url], { env, input: "" });
    expect(result.code, result.stderr).toBe(0);
    const config = join(env.HOME as string, ".config", "syncline");
    expect(modeOf(config)).toBe("700");
    expect(modeOf(join(config, "device-id"))).toBe("600");
    expect(modeOf(join(config, "known_hosts"))).toBe("600");
  });

  it("share create writes shares.json 0600 in a 0700 folder", async () => {
    const env = device();
    const base = server.server.url;
    const result = await runCliProcess(["share", "create", "ses_modes0001", "--server", base], {
      env,
    });
    expect(result.code, result.stderr).toBe(0);
    const config = join(env.HOME as string, ".config", "syncline");
    expect(modeOf(config)).toBe("700");
    expect(modeOf(join(config, "shares.json"))).toBe("600");
  });

  it("serve creates its data folder 0700 and the host key 0600", async () => {
    const data = join(dir.path, "serve-modes", "data");
    const serve = await startServe(data, {
      env: { XDG_CONFIG_HOME: join(dir.path, "serve-config"), SYNCLINE_CONFIG: "" },
      args: ["--authorized-keys", authorizedKeys],
    });
    try {
      expect(modeOf(data)).toBe("700");
      expect(modeOf(join(data, "host_key"))).toBe("600");
    } finally {
      await stopServe(serve.child);
    }
  });
});
