import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ssh2 from "ssh2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  hostTranscript,
  type TranscriptFields,
  wireHostNamespace,
} from "../../protocol/wire-transcript.js";
import { fingerprintOf } from "./fingerprint.js";
import { signHostTranscript, verifyHostSignature } from "./host-signature.js";
import { parsePublicKey } from "./public-key.js";
import { createKeySigner, type Signer } from "./signer.js";
import { armorSshsig } from "./sshsig.js";
import { generateTestKey, sshKeygenVerify, type TestKey } from "./testing/ssh-keygen.js";

let dir: string;
let host: TestKey;
let other: TestKey;
let hostSigner: Signer;

function fields(): TranscriptFields {
  return {
    serverId: "server-1",
    sessionId: randomBytes(16),
    nonce: randomBytes(32),
    clientNonce: randomBytes(32),
    channelBinding: randomBytes(32),
  };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "syncline-host-"));
  host = generateTestKey(dir, "ecdsa-256", { name: "host" });
  other = generateTestKey(dir, "ed25519", { name: "other" });
  const parsed = ssh2.utils.parseKey(readFileSync(host.privatePath));
  if (parsed instanceof Error) throw parsed;
  hostSigner = createKeySigner(parsed, host.privatePath);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("host signatures", () => {
  it("verifies, with or without a pinned fingerprint", async () => {
    const transcript = fields();
    const hostSignature = await signHostTranscript(hostSigner, transcript);
    const check = { ...transcript, hostKey: hostSigner.publicKey, hostSignature };
    const { fingerprint } = verifyHostSignature(check);
    expect(fingerprint).toBe(fingerprintOf(parsePublicKey(host.publicLine, (r) => new Error(r))));
    expect(verifyHostSignature({ ...check, pinnedFingerprint: fingerprint }).key.type).toBe(
      "ecdsa-sha2-nistp256",
    );
    const bare = fingerprint.slice("SHA256:".length);
    expect(verifyHostSignature({ ...check, pinnedFingerprint: bare }).fingerprint).toBe(
      fingerprint,
    );
  });

  it("is an SSHSIG that ssh-keygen -Y verify accepts", async () => {
    const transcript = fields();
    const hostSignature = await signHostTranscript(hostSigner, transcript);
    const result = sshKeygenVerify({
      dir,
      publicLine: host.publicLine,
      namespace: wireHostNamespace,
      message: hostTranscript(transcript),
      armoredSignature: armorSshsig(hostSignature),
    });
    expect(result.status, result.output).toBe(0);
  });

  it("refuses a host key other than the pinned one", async () => {
    const transcript = fields();
    const hostSignature = await signHostTranscript(hostSigner, transcript);
    expect(() =>
      verifyHostSignature({
        ...transcript,
        hostKey: hostSigner.publicKey,
        hostSignature,
        pinnedFingerprint: "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
      }),
    ).toThrow(expect.objectContaining({ code: "ERR_AUTH_HOST_KEY" }));
  });

  it("refuses a signature over another transcript or by another key", async () => {
    const transcript = fields();
    const hostSignature = await signHostTranscript(hostSigner, transcript);
    expect(() =>
      verifyHostSignature({ ...fields(), hostKey: hostSigner.publicKey, hostSignature }),
    ).toThrow(expect.objectContaining({ code: "ERR_AUTH_SIGNATURE" }));
    expect(() =>
      verifyHostSignature({ ...transcript, hostKey: other.publicLine, hostSignature }),
    ).toThrow(expect.objectContaining({ code: "ERR_AUTH_SIGNATURE" }));
  });
});
