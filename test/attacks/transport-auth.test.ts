// Attacks on the transport's authentication and on what a client does with what peers send: each
// test reproduces one against a real server on loopback (raw clients where the attack needs a
// hand-made frame, the built CLI where the victim is a user) and asserts the bound.

import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recvCommand } from "../../src/cli/commands/recv.js";
import type { CliIo } from "../../src/cli/io.js";
import { createLogger } from "../../src/server/logger.js";
import { loadPrivateKey } from "../../src/transport/auth/private-key-file.js";
import { sshString, sshStrings, sshU32 } from "../../src/transport/auth/ssh-string.js";
import { generateTestKey, type TestKey } from "../../src/transport/auth/testing/ssh-keygen.js";
import { parseServerAddress } from "../../src/transport/server-address.js";
import { StreamSender } from "../../src/transport/stream/stream-sender.js";
import { runSender } from "../../src/transport/stream-link.js";
import { dial } from "../../src/transport/wire-dial.js";
import { runCliProcess } from "../helpers/cli.js";
import { openRawWire, type RawWire, rawAuth, rawHello } from "../helpers/raw-wire.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { createTempDir } from "../helpers/temp-dir.js";
import { clientFor, waitUntil } from "../helpers/transport.js";

let dir: { path: string; remove: () => Promise<void> };
let keys: { alice: TestKey; bob: TestKey; fenced: TestKey; commanded: TestKey; stranger: TestKey };
let authorizedKeysPath: string;
let authorizedKeysText: string;
let server: TestServer;
let url: string;
const logLines: string[] = [];

beforeAll(async () => {
  dir = await createTempDir("syncline-attacks-");
  const keyDir = join(dir.path, "keys");
  mkdirSync(keyDir);
  keys = {
    alice: generateTestKey(keyDir, "ed25519", { name: "alice" }),
    bob: generateTestKey(keyDir, "ecdsa-256", { name: "bob" }),
    fenced: generateTestKey(keyDir, "ed25519", { name: "fenced" }),
    commanded: generateTestKey(keyDir, "ed25519", { name: "commanded" }),
    stranger: generateTestKey(keyDir, "ed25519", { name: "stranger" }),
  };
  authorizedKeysPath = join(dir.path, "authorized_keys");
  authorizedKeysText = [
    "# devices",
    keys.alice.publicLine,
    keys.bob.publicLine,
    "",
    "",
    `from="10.0.0.0/8" ${keys.fenced.publicLine}`,
    `command="/usr/bin/rrsync -ro /srv",no-pty ${keys.commanded.publicLine}`,
  ].join("\n");
  writeFileSync(authorizedKeysPath, `${authorizedKeysText}\n`);
  const logger = createLogger("info", { write: (line: string) => void logLines.push(line) });
  server = await startTestServer({ authorizedKeys: authorizedKeysPath }, { logger });
  url = server.server.url.replace(/^http/, "ws");
});

afterAll(async () => {
  await server?.stop();
  await dir?.remove();
});

/** Publishes `bytes` on `channel` with the OPEN fields an attacker chooses (transferId, name). */
async function publishAs(
  key: TestKey,
  channel: string,
  bytes: Buffer,
  open: { transferId: string; name?: string },
): Promise<void> {
  const signer = await loadPrivateKey(key.privatePath);
  const { connection } = await dial({ address: parseServerAddress(url), signer });
  try {
    const streamId = connection.allocateStreamId();
    connection.send({
      type: "open",
      streamId,
      channel,
      size: bytes.length,
      origin: "attacker-device",
      chunkSize: 64 * 1024,
      ...open,
    });
    const sender = new StreamSender({
      transferId: open.transferId,
      size: bytes.length,
      chunkSize: 64 * 1024,
      readChunk: async (offset, length) => bytes.subarray(offset, offset + length),
    });
    await runSender(connection, streamId, sender);
  } finally {
    connection.close(1000, "done");
  }
}

/** Every path under `root`, relative, sorted. */
function tree(root: string): string[] {
  return readdirSync(root, { recursive: true, encoding: "utf8" }).sort();
}

/** A raw connection that has said HELLO and got its CHALLENGE. */
async function challenged() {
  const raw = await openRawWire(url);
  return { raw, challenge: await rawHello(raw) };
}

/** The ERROR a raw connection got before it closed, and the close. */
async function refusalOf(raw: RawWire) {
  const closed = await raw.closed;
  const error = raw.received.find((message) => message.type === "error");
  return { closed, error: error?.type === "error" ? error : undefined };
}

/** The server's log lines since `from` (an index into logLines). */
function logsSince(from: number): string {
  return logLines.slice(from).join("");
}

describe("peer data never reaches a path or the terminal raw", () => {
  it("a publisher's transferId and name full of ../ make recv -o DIR/out write only DIR/out", async () => {
    const root = join(dir.path, "paths");
    const target = join(root, "inbox");
    mkdirSync(target, { recursive: true });
    const before = tree(root);
    const payload = randomBytes(3000);
    await publishAs(keys.alice, "paths", payload, {
      transferId: "x/../../escape/victimfile",
      name: "../../escape/victimfile",
    });
    const result = await runCliProcess(
      ["recv", "--channel", "paths", "-o", join(target, "out"), "--server", url].concat([
        "--identity",
        keys.bob.privatePath,
        "--json",
      ]),
      { env: freshDevice("paths") },
    );
    expect(result.code).toBe(0);
    expect(readFileSync(join(target, "out")).equals(payload)).toBe(true);
    expect(tree(root)).toEqual([...before, "inbox/out"].sort());
    expect(existsSync(join(dir.path, "escape"))).toBe(false);
    expect(existsSync(join(root, "escape"))).toBe(false);
  });

  it("recv shows a peer-given name with its escape sequences made visible, never raw", async () => {
    const hostile = "\x1b]0;owned\x07\x1b[2J\x1b[1;1Hreal.txt\r\nsyncline: fake\x9b31m";
    const payload = randomBytes(1024 * 1024 + 1); // big enough for the progress bar
    await publishAs(keys.alice, "terminal", payload, { transferId: "t-1", name: hostile });
    const terminal = fakeTerminal();
    const stdout = fakeTerminal();
    const output = join(dir.path, "terminal.out");
    await recvCommand(
      { channel: "terminal", output, server: url, identity: keys.bob.privatePath, json: true },
      { ...cliIo(terminal.stream, freshDevice("terminal")), stdout: stdout.stream },
    );
    expect(readFileSync(output).equals(payload)).toBe(true);
    const shown = terminal.text();
    expect(shown).toContain("recv "); // the progress bar was drawn, with its label
    for (const text of [shown, stdout.text()]) {
      for (const raw of ["\x1b]", "\x07", "\x1b[2J", "\x1b[1;1H", "\r\nsyncline", "\x9b"]) {
        expect(text).not.toContain(raw);
      }
    }
    expect(shown).toContain("\\x1b]0;owned\\x07");
    // --json keeps the name exactly, every character a terminal would act on escaped.
    expect(JSON.parse(stdout.text()).name).toBe(hostile);
  });
});

describe("an impostor at a known address", () => {
  it("a server whose host key changed since the first contact is refused: exit 8, not retried", async () => {
    const first = await startTestServer({ authorizedKeys: authorizedKeysPath });
    const port = first.server.port;
    const address = `ws://127.0.0.1:${port}`;
    const env = freshDevice("tofu");
    const knownHosts = join(env.XDG_CONFIG_HOME as string, "syncline", "known_hosts");
    const file = join(dir.path, "tofu.bin");
    writeFileSync(file, randomBytes(100));
    const args = [file, "--channel", "tofu", "--server", address];
    const send = (extra: string[] = []) =>
      runCliProcess(["send", ...args, "--identity", keys.alice.privatePath, ...extra], {
        env,
        input: "",
      });
    let impostor: TestServer | undefined;
    try {
      const met = await send();
      expect(met.code).toBe(0);
      expect(met.stderr).toContain(
        `permanently added the host key ${first.server.hostFingerprint}`,
      );
      expect(readFileSync(knownHosts, "utf8")).toMatch(
        new RegExp(`^127\\.0\\.0\\.1:${port} ssh-ed25519 AAAA\\S+\\n$`),
      );
      const again = await send();
      expect(again.code).toBe(0);
      expect(again.stderr).not.toContain("permanently added");

      await first.halt();
      impostor = await startTestServer({ authorizedKeys: authorizedKeysPath, port });
      const started = Date.now();
      const refused = await send(["--json"]);
      expect(refused.code).toBe(8);
      expect(Date.now() - started).toBeLessThan(5000);
      expect(refused.stderr).not.toContain("retrying");
      const error = JSON.parse(refused.stdout).error;
      expect(error.code).toBe("ERR_AUTH_HOST_KEY");
      expect(error.message).toContain(`the host key of ${address} has changed`);
      expect(error.message).toContain(impostor.server.hostFingerprint);
      expect(error.message).toContain(first.server.hostFingerprint);
      expect(error.message).toContain(`remove line 1 of ${knownHosts}`);

      // A pin overrides known_hosts, which it neither reads nor writes.
      const recorded = readFileSync(knownHosts, "utf8");
      const pinned = await send([
        "--server-fingerprint",
        impostor.server.hostFingerprint as string,
      ]);
      expect(pinned.code).toBe(0);
      expect(readFileSync(knownHosts, "utf8")).toBe(recorded);
    } finally {
      await impostor?.stop();
      await first.stop();
    }
  });

  it("nodes given one host key (--host-key) are one server to a client that trusted either", async () => {
    // Two nodes behind one address (a load balancer), each with its own data directory and a
    // copy of the same key: the client's first contact was the one, its next the other.
    const hostKey = join(dir.path, "shared_host_key");
    const first = await startTestServer({ authorizedKeys: authorizedKeysPath, hostKey });
    const port = first.server.port;
    const env = freshDevice("shared");
    const file = join(dir.path, "shared.bin");
    writeFileSync(file, randomBytes(100));
    const send = () =>
      runCliProcess(
        [
          "send",
          file,
          "--channel",
          "shared",
          "--server",
          `ws://127.0.0.1:${port}`,
          "--identity",
          keys.alice.privatePath,
        ],
        { env, input: "" },
      );
    let other: TestServer | undefined;
    try {
      const met = await send();
      expect(met.code).toBe(0);
      expect(met.stderr).toContain("permanently added the host key");
      await first.halt();
      other = await startTestServer({ authorizedKeys: authorizedKeysPath, hostKey, port });
      expect(other.dataDir).not.toBe(first.dataDir);
      expect(other.server.hostFingerprint).toBe(first.server.hostFingerprint);
      const again = await send();
      expect(again.code).toBe(0);
      expect(again.stderr).not.toContain("permanently added");
    } finally {
      await other?.stop();
      await first.stop();
    }
  });
});

describe("authorized_keys on the server", () => {
  it("a file removed or unreadable while the server runs refuses every key and says so in the log", async () => {
    const client = await clientFor(url, keys.alice);
    await client.whenOpen();
    client.close();
    const from = logLines.length;
    try {
      rmSync(authorizedKeysPath);
      const refused = await clientFor(url, keys.alice);
      await expect(refused.whenOpen()).rejects.toMatchObject({ code: "ERR_AUTH_NOT_AUTHORIZED" });
      mkdirSync(authorizedKeysPath); // unreadable: a directory where the file was
      const again = await clientFor(url, keys.alice);
      await expect(again.whenOpen()).rejects.toMatchObject({ code: "ERR_AUTH_NOT_AUTHORIZED" });
      expect(logsSince(from)).toContain(`authorized_keys ${authorizedKeysPath} cannot be read`);
      expect(logsSince(from)).toContain("refusing every /wire connection");
    } finally {
      rmSync(authorizedKeysPath, { recursive: true, force: true });
      writeFileSync(authorizedKeysPath, `${authorizedKeysText}\n`);
    }
    const back = await clientFor(url, keys.alice);
    await back.whenOpen();
    back.close();
  });

  it("a key whose line has command= is refused, and the log names the option", async () => {
    const from = logLines.length;
    const client = await clientFor(url, keys.commanded);
    await expect(client.whenOpen()).rejects.toMatchObject({ code: "ERR_AUTH_NOT_AUTHORIZED" });
    await waitUntil(() => logsSince(from).includes("command="), "the refusal in the log");
    expect(logsSince(from)).toMatch(/line 7.*command=/);
  });

  it("an RSA key with a 3071-bit public exponent is refused before any signature check", async () => {
    const { raw } = await challenged();
    const forged = forgedRsaKey({ exponentBits: 3071, modulusBits: 3072 });
    raw.send({ type: "auth", publicKey: forged.line, signature: forged.sshsig() });
    const { closed, error } = await refusalOf(raw);
    expect(closed.code).toBe(4401);
    expect(error).toMatchObject({ code: "ERR_AUTH_ALGORITHM" });
    expect(error?.message).toMatch(/exponent/);
  });

  it("an RSA modulus outside 2048–8192 bits is refused before any signature check", async () => {
    for (const modulusBits of [1024, 8200]) {
      const { raw } = await challenged();
      const forged = forgedRsaKey({ exponentBits: 17, modulusBits });
      raw.send({ type: "auth", publicKey: forged.line, signature: forged.sshsig() });
      const { closed, error } = await refusalOf(raw);
      expect(closed.code).toBe(4401);
      expect(error).toMatchObject({ code: "ERR_AUTH_ALGORITHM" });
      expect(error?.message).toMatch(/modulus/);
    }
  });

  it("a key that is not in authorized_keys is refused before its signature is checked", async () => {
    const { raw, challenge } = await challenged();
    const auth = await rawAuth(challenge, await loadPrivateKey(keys.stranger.privatePath));
    const garbled = Buffer.from(auth.signature);
    garbled[garbled.length - 1] = (garbled[garbled.length - 1] ?? 0) ^ 0xff;
    raw.send({ ...auth, signature: garbled });
    const { closed, error } = await refusalOf(raw);
    expect(closed.code).toBe(4403);
    expect(error).toMatchObject({ code: "ERR_AUTH_NOT_AUTHORIZED" });
  });
});

describe("refusals name no server paths or policies", () => {
  it("a from= mismatch tells the client only that its key is not authorized; the log has the detail", async () => {
    const from = logLines.length;
    const { raw, challenge } = await challenged();
    raw.send(await rawAuth(challenge, await loadPrivateKey(keys.fenced.privatePath)));
    const { closed, error } = await refusalOf(raw);
    expect(closed.code).toBe(4403);
    expect(error?.code).toBe("ERR_AUTH_NOT_AUTHORIZED");
    const told = `${error?.message} ${closed.reason}`;
    for (const secret of [authorizedKeysPath, "authorized_keys", "line", "10.0.0.0/8", "from="]) {
      expect(told).not.toContain(secret);
    }
    expect(told).toContain("not authorized");
    await waitUntil(() => logsSince(from).includes("10.0.0.0/8"), "the detail in the log");
    expect(logsSince(from)).toContain(`${authorizedKeysPath} line 6`);
  });
});

describe("frames pipelined with AUTH", () => {
  it("an OPEN written in the same TCP write as AUTH is handled once authenticated", async () => {
    const { raw, challenge } = await challenged();
    const auth = await rawAuth(challenge, await loadPrivateKey(keys.alice.privatePath));
    const bytes = Buffer.from("pipelined");
    raw.sendTogether([
      auth,
      {
        type: "open",
        streamId: 1,
        transferId: "pipelined-1",
        channel: "pipelined",
        size: bytes.length,
        origin: "raw",
        chunkSize: 1024,
      },
    ]);
    await raw.next("welcome", undefined, 3000);
    await raw.next("credit", (message) => message.streamId === 1, 3000);
    raw.send({ type: "data", streamId: 1, bytes, fin: true });
    const sha256 = createHash("sha256").update(bytes).digest();
    raw.send({ type: "end", streamId: 1, size: bytes.length, sha256 });
    const ack = await raw.next("ack", (message) => message.streamId === 1, 3000);
    expect(Buffer.from(ack.sha256).equals(sha256)).toBe(true);
    raw.close();
  });

  it("a SUBSCRIBE in the same write as AUTH gets the channel's latest payload", async () => {
    await publishAs(keys.alice, "pipelined-sub", Buffer.from("latest"), { transferId: "ps-1" });
    const { raw, challenge } = await challenged();
    const auth = await rawAuth(challenge, await loadPrivateKey(keys.bob.privatePath));
    raw.sendTogether([
      auth,
      { type: "subscribe", channel: "pipelined-sub", latest: true, follow: false },
    ]);
    const open = await raw.next("open", (message) => message.channel === "pipelined-sub", 3000);
    expect(open.transferId).toBe("ps-1");
    raw.close();
  });

  it("more than 16 frames before WELCOME close the connection with 4400, naming the limit", async () => {
    const { raw, challenge } = await challenged();
    const auth = await rawAuth(challenge, await loadPrivateKey(keys.alice.privatePath));
    const subscribe = { type: "subscribe", channel: "flood", latest: false, follow: true } as const;
    raw.sendTogether([auth, ...Array.from({ length: 17 }, () => subscribe)]);
    const { closed, error } = await refusalOf(raw);
    expect(closed.code).toBe(4400);
    expect(error?.code).toBe("ERR_WIRE_MESSAGE");
    expect(error?.message).toMatch(/16/);
  });

  it("frames pipelined behind a refused AUTH are dropped: nothing is published", async () => {
    const { raw, challenge } = await challenged();
    const auth = await rawAuth(challenge, await loadPrivateKey(keys.stranger.privatePath));
    const bytes = Buffer.from("smuggled");
    raw.sendTogether([
      auth,
      {
        type: "open",
        streamId: 1,
        transferId: "smuggled-1",
        channel: "smuggled",
        size: bytes.length,
        origin: "raw",
        chunkSize: 1024,
      },
      { type: "data", streamId: 1, bytes, fin: true },
    ]);
    expect((await raw.closed).code).toBe(4403);
    expect(raw.received.some((message) => message.type === "credit")).toBe(false);
  });
});

/** A fresh device environment: its own HOME and config dir, no agent. */
function freshDevice(name: string): NodeJS.ProcessEnv {
  const home = join(dir.path, "homes", name);
  mkdirSync(home, { recursive: true });
  return {
    HOME: home,
    XDG_CONFIG_HOME: join(home, ".config"),
    SYNCLINE_CONFIG: undefined,
    SSH_AUTH_SOCK: undefined,
  };
}

/** A writable that says it is a terminal, and what was written to it. */
function fakeTerminal() {
  const chunks: string[] = [];
  const stream = Object.assign(
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        chunks.push(chunk.toString("latin1"));
        done();
      },
    }),
    { isTTY: true, columns: 120 },
  );
  return { stream, text: () => chunks.join("") };
}

function cliIo(stderr: Writable, env: NodeJS.ProcessEnv): CliIo {
  const stdout = new Writable({ write: (_chunk, _encoding, done) => done() });
  return { stdout, stderr, env, onSignal: () => () => {} };
}

/**
 * An RSA public key of `modulusBits` with a public exponent of `exponentBits` (odd, below the
 * modulus), and a well-formed SSHSIG "made" by it: a server that verifies it pays for a modular
 * exponentiation with that exponent before finding the signature wrong.
 */
function forgedRsaKey(options: { exponentBits: number; modulusBits: number }) {
  const n = oddNumberOfBits(options.modulusBits);
  const e = oddNumberOfBits(options.exponentBits);
  const blob = sshStrings("ssh-rsa", mpint(e), mpint(n));
  return {
    line: `ssh-rsa ${blob.toString("base64")}`,
    sshsig(): Buffer {
      const signature = Buffer.concat([Buffer.from([0]), randomBytes(n.length - 1)]);
      return Buffer.concat([
        Buffer.from("SSHSIG"),
        sshU32(1),
        sshString(blob),
        sshStrings("syncline-wire-auth@syncline", "", "sha512"),
        sshString(sshStrings("rsa-sha2-512", signature)),
      ]);
    },
  };
}

/** Random bytes holding a number of exactly `bits` bits, odd. */
function oddNumberOfBits(bits: number): Buffer {
  const bytes = randomBytes(Math.ceil(bits / 8));
  const top = bits % 8 === 0 ? 8 : bits % 8;
  bytes[0] = ((bytes[0] ?? 0) & ((1 << top) - 1)) | (1 << (top - 1));
  bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) | 1;
  return bytes;
}

/** An SSH mpint of a positive number: a leading zero byte when its top bit is set. */
function mpint(value: Buffer): Buffer {
  return (value[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), value]) : value;
}
