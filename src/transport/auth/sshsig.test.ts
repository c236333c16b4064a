import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ssh2 from "ssh2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatPublicKey, parsePublicKey } from "./public-key.js";
import { createKeySigner, type Signer } from "./signer.js";
import { sshStrings } from "./ssh-string.js";
import { armorSshsig, createSshsig, parseArmoredSshsig, verifySshsig } from "./sshsig.js";
import {
  generateTestKey,
  sshKeygenSign,
  sshKeygenVerify,
  type TestKey,
  type TestKeyKind,
} from "./testing/ssh-keygen.js";

const kinds: TestKeyKind[] = ["ed25519", "ecdsa-256", "ecdsa-384", "ecdsa-521", "rsa"];
const message = new TextEncoder().encode("the transcript bytes\n");
const namespace = "syncline-test@syncline";
let dir: string;
const keys = new Map<TestKeyKind, TestKey>();

function signerOf(key: TestKey): Signer {
  const parsed = ssh2.utils.parseKey(readFileSync(key.privatePath));
  if (parsed instanceof Error) throw parsed;
  return createKeySigner(parsed, key.privatePath);
}

function fail(reason: string): Error {
  return new Error(reason);
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "syncline-sshsig-"));
  for (const kind of kinds) keys.set(kind, generateTestKey(dir, kind));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe.each(kinds)("SSHSIG with a %s key", (kind) => {
  const key = () => keys.get(kind) as TestKey;

  it("ssh-keygen -Y verify accepts our signature", async () => {
    const blob = await createSshsig({ signer: signerOf(key()), namespace, message });
    const result = sshKeygenVerify({
      dir,
      publicLine: key().publicLine,
      namespace,
      message,
      armoredSignature: armorSshsig(blob),
    });
    expect(result.output).toContain("Good");
    expect(result.status).toBe(0);
  });

  it("ssh-keygen -Y verify accepts our sha256 variant too", async () => {
    const blob = await createSshsig({
      signer: signerOf(key()),
      namespace,
      message,
      hashAlgorithm: "sha256",
    });
    const armoredSignature = armorSshsig(blob);
    const result = sshKeygenVerify({
      dir,
      publicLine: key().publicLine,
      namespace,
      message,
      armoredSignature,
    });
    expect(result.status).toBe(0);
  });

  it("we verify ssh-keygen -Y sign's signature and return its key", () => {
    const armored = sshKeygenSign({ dir, privatePath: key().privatePath, namespace, message });
    const signingKey = verifySshsig({ signature: parseArmoredSshsig(armored), namespace, message });
    expect(formatPublicKey(signingKey)).toBe(key().publicLine.split(" ").slice(0, 2).join(" "));
  });

  it("ssh-keygen refuses our signature under another namespace", async () => {
    const blob = await createSshsig({ signer: signerOf(key()), namespace: "other", message });
    const result = sshKeygenVerify({
      dir,
      publicLine: key().publicLine,
      namespace,
      message,
      armoredSignature: armorSshsig(blob),
    });
    expect(result.status).not.toBe(0);
  });
});

describe("verifySshsig refusals", () => {
  const edKey = () => keys.get("ed25519") as TestKey;

  it("is byte-identical to ssh-keygen for ed25519 (deterministic signatures)", async () => {
    const ours = armorSshsig(await createSshsig({ signer: signerOf(edKey()), namespace, message }));
    const theirs = sshKeygenSign({ dir, privatePath: edKey().privatePath, namespace, message });
    expect(ours).toBe(theirs);
  });

  it("refuses a wrong namespace", async () => {
    const signature = await createSshsig({ signer: signerOf(edKey()), namespace: "file", message });
    expect(() => verifySshsig({ signature, namespace, message })).toThrow(
      expect.objectContaining({ code: "ERR_AUTH_SIGNATURE", closeCode: 4401 }),
    );
  });

  it("refuses another message", async () => {
    const signature = await createSshsig({ signer: signerOf(edKey()), namespace, message });
    const other = new TextEncoder().encode("something else");
    expect(() => verifySshsig({ signature, namespace, message: other })).toThrow(
      expect.objectContaining({ code: "ERR_AUTH_SIGNATURE" }),
    );
  });

  it("refuses wrong magic, a wrong version and trailing bytes", async () => {
    const signature = await createSshsig({ signer: signerOf(edKey()), namespace, message });
    const badMagic = Buffer.from(signature);
    badMagic[0] = 0x58;
    const badVersion = Buffer.from(signature);
    badVersion.writeUInt32BE(2, 6);
    const trailing = Buffer.concat([signature, Buffer.from([0])]);
    for (const bad of [badMagic, badVersion, trailing, signature.subarray(0, 40)]) {
      expect(() => verifySshsig({ signature: bad, namespace, message })).toThrow(
        expect.objectContaining({ code: "ERR_AUTH_SIGNATURE" }),
      );
    }
  });

  it("refuses an ssh-rsa (SHA-1) signature inside", async () => {
    const rsa = keys.get("rsa") as TestKey;
    const parsed = ssh2.utils.parseKey(readFileSync(rsa.privatePath));
    if (parsed instanceof Error) throw parsed;
    const sha1Signer: Signer = {
      ...signerOf(rsa),
      async sign(data) {
        return sshStrings("ssh-rsa", parsed.sign(Buffer.from(data), "sha1"));
      },
    };
    const signature = await createSshsig({ signer: sha1Signer, namespace, message });
    expect(() => verifySshsig({ signature, namespace, message })).toThrow(
      expect.objectContaining({ code: "ERR_AUTH_ALGORITHM", closeCode: 4401 }),
    );
  });

  it("checks allowedKeys and expectedKey before the signature", async () => {
    const signature = await createSshsig({ signer: signerOf(edKey()), namespace, message });
    const other = parsePublicKey((keys.get("ecdsa-256") as TestKey).publicLine, fail);
    // A wrong message would fail the signature check: the key checks must answer first.
    const wrong = new TextEncoder().encode("another message");
    expect(() =>
      verifySshsig({ signature, namespace, message: wrong, allowedKeys: [other] }),
    ).toThrow(expect.objectContaining({ code: "ERR_AUTH_NOT_AUTHORIZED", closeCode: 4403 }));
    expect(() =>
      verifySshsig({ signature, namespace, message: wrong, expectedKey: other }),
    ).toThrow(expect.objectContaining({ message: expect.stringMatching(/not by the expected/) }));
    const own = parsePublicKey(edKey().publicLine, fail);
    expect(verifySshsig({ signature, namespace, message, allowedKeys: [own] }).type).toBe(
      "ssh-ed25519",
    );
  });

  it("refuses broken armor", () => {
    expect(() => parseArmoredSshsig("-----BEGIN SSH SIGNATURE-----\n!!\n")).toThrow(
      expect.objectContaining({ code: "ERR_AUTH_SIGNATURE" }),
    );
  });
});
