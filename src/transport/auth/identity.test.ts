import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { resolveIdentities, resolveIdentity } from "./identity.js";
import { parsePublicKey } from "./public-key.js";
import type { Signer } from "./signer.js";
import { armorSshsig, createSshsig, verifySshsig } from "./sshsig.js";
import { startTestAgent, type TestAgent } from "./testing/ssh-agent.js";
import {
  generateTestKey,
  sshKeygenVerify,
  type TestKey,
  type TestKeyKind,
} from "./testing/ssh-keygen.js";

const message = new TextEncoder().encode("challenge");
const namespace = "syncline-wire-auth@syncline";
const noAgent = { env: {} };
let dir: string;
let plain: TestKey;
let encrypted: TestKey;
let agent: TestAgent;
const agentKeys = new Map<TestKeyKind, TestKey>();

function publicPart(line: string): string {
  return line.split(" ").slice(0, 2).join(" ");
}

/** Signs with `signer` and checks the result both with our verifier and with ssh-keygen. */
async function expectInterop(signer: Signer, key: TestKey): Promise<void> {
  const signature = await createSshsig({ signer, namespace, message });
  const signingKey = verifySshsig({ signature, namespace, message });
  expect(signingKey.blob).toEqual(parsePublicKey(key.publicLine, (r) => new Error(r)).blob);
  const armoredSignature = armorSshsig(signature);
  const result = sshKeygenVerify({
    dir,
    publicLine: key.publicLine,
    namespace,
    message,
    armoredSignature,
  });
  expect(result.status, result.output).toBe(0);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "syncline-identity-"));
  plain = generateTestKey(dir, "ecdsa-256", { name: "plain" });
  encrypted = generateTestKey(dir, "ed25519", { name: "encrypted", passphrase: "correct horse" });
  for (const kind of ["rsa", "ed25519", "ecdsa-384"] as const) {
    agentKeys.set(kind, generateTestKey(dir, kind, { name: `agent_${kind}` }));
  }
  agent = await startTestAgent(dir);
});

afterAll(async () => {
  await agent?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("resolveIdentity with --identity", () => {
  it("loads a plain key and signs", async () => {
    const identity = await resolveIdentity({ ...noAgent, identityFile: plain.privatePath });
    expect(identity.source).toBe(plain.privatePath);
    expect(identity.publicKey).toBe(publicPart(plain.publicLine));
    expect(identity.algorithm).toBe("ecdsa-sha2-nistp256");
    expect(identity.fingerprint).toMatch(/^SHA256:/);
    await expectInterop(identity, plain);
  });

  it("asks once for the passphrase of an encrypted key", async () => {
    const askPassphrase = vi.fn(async () => "correct horse");
    const identity = await resolveIdentity({
      ...noAgent,
      identityFile: encrypted.privatePath,
      askPassphrase,
    });
    expect(askPassphrase).toHaveBeenCalledExactlyOnceWith(encrypted.privatePath);
    await expectInterop(identity, encrypted);
    await identity.sign(message);
    expect(askPassphrase).toHaveBeenCalledTimes(1);
  });

  it("refuses a wrong passphrase with ERR_AUTH_PASSPHRASE naming the file", async () => {
    await expect(
      resolveIdentity({
        ...noAgent,
        identityFile: encrypted.privatePath,
        askPassphrase: async () => "wrong",
      }),
    ).rejects.toMatchObject({
      code: "ERR_AUTH_PASSPHRASE",
      message: expect.stringContaining(encrypted.privatePath),
    });
  });

  it("fails at once when no passphrase can be asked", async () => {
    await expect(
      resolveIdentity({ ...noAgent, identityFile: encrypted.privatePath }),
    ).rejects.toMatchObject({
      code: "ERR_AUTH_PASSPHRASE",
      message: expect.stringContaining(`ssh-add ${encrypted.privatePath}`),
    });
    const askPassphrase = vi.fn(async () => "correct horse");
    await expect(
      resolveIdentity({
        ...noAgent,
        identityFile: encrypted.privatePath,
        askPassphrase,
        interactive: false,
      }),
    ).rejects.toMatchObject({ code: "ERR_AUTH_PASSPHRASE" });
    expect(askPassphrase).not.toHaveBeenCalled();
  });

  it("names a missing file, a public key file and a non-key file", async () => {
    for (const path of [
      join(dir, "nope"),
      `${plain.privatePath}.pub`,
      join(dir, "allowed_signers"),
    ]) {
      await expect(resolveIdentity({ ...noAgent, identityFile: path })).rejects.toMatchObject({
        code: "ERR_AUTH_KEY_FILE",
        message: expect.stringContaining(path),
      });
    }
  });

  it("takes the agent's copy of the key when the agent holds it: no passphrase, .pub accepted", async () => {
    // The agent holds the encrypted key (added from a decrypted copy, as ssh-add would).
    const copy = join(dir, "encrypted-copy");
    execFileSync("cp", [encrypted.privatePath, copy]);
    execFileSync("ssh-keygen", ["-p", "-q", "-P", "correct horse", "-N", "", "-f", copy]);
    agent.removeAll();
    agent.add((agentKeys.get("ed25519") as TestKey).privatePath);
    agent.add(copy);
    const askPassphrase = vi.fn(async () => "correct horse");
    for (const identityFile of [encrypted.privatePath, `${encrypted.privatePath}.pub`]) {
      const identities = await resolveIdentities({
        env: { SSH_AUTH_SOCK: agent.socketPath },
        identityFile,
        askPassphrase,
      });
      expect(identities).toHaveLength(1); // that key only, as ssh -i
      const [identity] = identities;
      expect(identity.source).toBe(`ssh-agent ${agent.socketPath}`);
      expect(identity.publicKey).toBe(publicPart(encrypted.publicLine));
      expect(identity.comment).toBe("test@ed25519");
      await expectInterop(identity, encrypted);
    }
    expect(askPassphrase).not.toHaveBeenCalled();
    agent.removeAll();
  });

  it("refuses a .pub the agent does not hold, saying to ssh-add it", async () => {
    const pub = `${plain.privatePath}.pub`;
    for (const env of [{}, { SSH_AUTH_SOCK: agent.socketPath }]) {
      await expect(resolveIdentity({ env, identityFile: pub })).rejects.toMatchObject({
        code: "ERR_AUTH_KEY_FILE",
        message: expect.stringMatching(/is a public key and .*ssh-add/),
      });
    }
  });

  it("uses the file even when an agent is available", async () => {
    agent.add((agentKeys.get("ed25519") as TestKey).privatePath);
    const identity = await resolveIdentity({
      env: { SSH_AUTH_SOCK: agent.socketPath },
      identityFile: plain.privatePath,
    });
    expect(identity.source).toBe(plain.privatePath);
    agent.removeAll();
  });
});

describe("resolveIdentity with ssh-agent", () => {
  it.each(["rsa", "ed25519", "ecdsa-384"] as const)("signs with an agent %s key", async (kind) => {
    const key = agentKeys.get(kind) as TestKey;
    agent.removeAll();
    agent.add(key.privatePath);
    const identity = await resolveIdentity({
      env: { SSH_AUTH_SOCK: agent.socketPath },
      homeDir: join(dir, "empty-home"),
    });
    expect(identity.source).toBe(`ssh-agent ${agent.socketPath}`);
    expect(identity.publicKey).toBe(publicPart(key.publicLine));
    expect(identity.algorithm).toBe(
      kind === "rsa" ? "rsa-sha2-512" : identity.publicKey.split(" ")[0],
    );
    await expectInterop(identity, key);
  });

  it("offers every agent key in the agent's order, each with its own comment", async () => {
    agent.removeAll();
    agent.add((agentKeys.get("ecdsa-384") as TestKey).privatePath);
    agent.add((agentKeys.get("ed25519") as TestKey).privatePath);
    const identities = await resolveIdentities({ env: { SSH_AUTH_SOCK: agent.socketPath } });
    expect(identities.map((identity) => identity.algorithm)).toEqual([
      "ecdsa-sha2-nistp384",
      "ssh-ed25519",
    ]);
    expect(identities.map((identity) => identity.comment)).toEqual([
      "test@ecdsa-384",
      "test@ed25519",
    ]);
    const first = await resolveIdentity({ env: { SSH_AUTH_SOCK: agent.socketPath } });
    expect(first.algorithm).toBe("ecdsa-sha2-nistp384");
  });

  it("reports an agent that refuses to sign (ssh-add -c, denied) as ERR_AUTH_AGENT", async () => {
    agent.removeAll();
    agent.add((agentKeys.get("ed25519") as TestKey).privatePath, { confirm: true });
    const identity = await resolveIdentity({ env: { SSH_AUTH_SOCK: agent.socketPath } });
    await expect(identity.sign(message)).rejects.toMatchObject({
      code: "ERR_AUTH_AGENT",
      message: expect.stringContaining("ssh-add -c"),
    });
    agent.removeAll();
  });

  it("reports a failure to sign as ERR_AUTH_AGENT (key removed after resolving)", async () => {
    agent.removeAll();
    agent.add((agentKeys.get("ed25519") as TestKey).privatePath);
    const identity = await resolveIdentity({ env: { SSH_AUTH_SOCK: agent.socketPath } });
    agent.removeAll();
    await expect(identity.sign(message)).rejects.toMatchObject({ code: "ERR_AUTH_AGENT" });
  });
});

describe("resolveIdentity default files", () => {
  function homeWith(name: string, keys: Array<[string, TestKeyKind]>): string {
    const home = join(dir, name);
    mkdirSync(join(home, ".ssh"), { recursive: true });
    for (const [file, kind] of keys) generateTestKey(join(home, ".ssh"), kind, { name: file });
    return home;
  }

  it("falls back to ~/.ssh/id_ed25519, id_ecdsa, id_rsa in that order", async () => {
    const home = homeWith("home-order", [
      ["id_rsa", "rsa"],
      ["id_ecdsa", "ecdsa-256"],
    ]);
    const identity = await resolveIdentity({ ...noAgent, homeDir: home });
    expect(identity.source).toBe(join(home, ".ssh", "id_ecdsa"));
    expect(identity.algorithm).toBe("ecdsa-sha2-nistp256");
  });

  it("falls back to the files when the agent is empty or unreachable", async () => {
    agent.removeAll();
    const home = homeWith("home-fallback", [["id_ed25519", "ed25519"]]);
    for (const socket of [agent.socketPath, join(dir, "no-such.sock")]) {
      const identity = await resolveIdentity({ env: { SSH_AUTH_SOCK: socket }, homeDir: home });
      expect(identity.source).toBe(join(home, ".ssh", "id_ed25519"));
    }
  });

  it("says where it looked when there is no identity at all", async () => {
    const home = join(dir, "home-empty");
    const socket = join(dir, "no-such.sock");
    const error = await resolveIdentity({ env: { SSH_AUTH_SOCK: socket }, homeDir: home }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toMatchObject({ code: "ERR_AUTH_NO_IDENTITY" });
    expect((error as Error).message).toContain(join(home, ".ssh", "id_ed25519"));
    expect((error as Error).message).toContain(socket);
  });
});
