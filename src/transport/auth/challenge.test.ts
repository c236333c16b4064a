import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ssh2 from "ssh2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authTranscript, wireAuthNamespace } from "../../protocol/wire-transcript.js";
import { type AuthorizedKey, parseAuthorizedKeys } from "./authorized-keys.js";
import {
  type ClientAuthAttempt,
  createChallengeIssuer,
  type IssuedChallenge,
  verifyClientAuth,
} from "./challenge.js";
import { signClientAuth } from "./client-auth.js";
import { fingerprintOf } from "./fingerprint.js";
import { createKeySigner, type Signer } from "./signer.js";
import { sshStrings } from "./ssh-string.js";
import { createSshsig, parseArmoredSshsig } from "./sshsig.js";
import {
  generateTestKey,
  sshKeygenSign,
  type TestKey,
  type TestKeyKind,
} from "./testing/ssh-keygen.js";

const kinds: TestKeyKind[] = ["ed25519", "ecdsa-256", "ecdsa-384", "rsa"];
const serverId = "server-1";
let dir: string;
const keys = new Map<TestKeyKind, TestKey>();
let stranger: TestKey;

function keyOf(kind: TestKeyKind): TestKey {
  return keys.get(kind) as TestKey;
}

function signerOf(key: TestKey): Signer {
  const parsed = ssh2.utils.parseKey(readFileSync(key.privatePath));
  if (parsed instanceof Error) throw parsed;
  return createKeySigner(parsed, key.privatePath);
}

function authorized(...lines: string[]): AuthorizedKey[] {
  return [...parseAuthorizedKeys(lines.join("\n")).entries];
}

/** A connection's view: its challenge, the client's nonce and (here) no TLS binding. */
function connect(issued: IssuedChallenge, channelBinding = new Uint8Array(0)) {
  const clientNonce = randomBytes(32);
  const fields = {
    serverId,
    sessionId: issued.sessionId,
    nonce: issued.nonce,
    clientNonce,
    channelBinding,
  };
  return { issued, clientNonce, channelBinding, fields };
}

async function attempt(
  key: TestKey,
  authorizedKeys: AuthorizedKey[],
  overrides: Partial<ClientAuthAttempt> = {},
): Promise<ClientAuthAttempt> {
  const connection = connect(createChallengeIssuer().issue("c1"));
  const auth = await signClientAuth(signerOf(key), connection.fields);
  return {
    issued: connection.issued,
    clientNonce: connection.clientNonce,
    serverId,
    channelBinding: connection.channelBinding,
    publicKey: auth.publicKey,
    signature: auth.signature,
    authorizedKeys,
    remoteAddress: "10.0.0.7",
    ...overrides,
  };
}

const refused = (code: string, closeCode: number) => expect.objectContaining({ code, closeCode });

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "syncline-challenge-"));
  for (const kind of kinds) keys.set(kind, generateTestKey(dir, kind));
  stranger = generateTestKey(dir, "ed25519", { name: "stranger" });
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("verifyClientAuth", () => {
  it.each(kinds)("admits an authorized %s key", async (kind) => {
    const entries = authorized(stranger.publicLine, keyOf(kind).publicLine);
    const result = verifyClientAuth(await attempt(keyOf(kind), entries));
    expect(result.entry.line).toBe(2);
    expect(result.fingerprint).toBe(entries[1]?.fingerprint);
    expect(result.fingerprint).toBe(fingerprintOf(result.key));
  });

  it("admits a signature made by ssh-keygen -Y sign over the transcript", () => {
    const issued = createChallengeIssuer().issue("c1");
    const connection = connect(issued);
    const key = keyOf("ed25519");
    const armored = sshKeygenSign({
      dir,
      privatePath: key.privatePath,
      namespace: wireAuthNamespace,
      message: authTranscript(connection.fields),
    });
    const result = verifyClientAuth({
      ...connection,
      serverId,
      publicKey: key.publicLine,
      signature: parseArmoredSshsig(armored),
      authorizedKeys: authorized(key.publicLine),
      remoteAddress: "::1",
    });
    expect(result.key.type).toBe("ssh-ed25519");
  });

  it("refuses an unknown key with 4403", async () => {
    const request = await attempt(stranger, authorized(keyOf("ed25519").publicLine));
    expect(() => verifyClientAuth(request)).toThrow(refused("ERR_AUTH_NOT_AUTHORIZED", 4403));
  });

  it("refuses a signature under another namespace with 4401", async () => {
    const key = keyOf("ed25519");
    const request = await attempt(key, authorized(key.publicLine));
    const { issued, clientNonce } = request;
    const message = authTranscript({
      ...issued,
      serverId,
      clientNonce,
      channelBinding: new Uint8Array(0),
    });
    const signature = await createSshsig({ signer: signerOf(key), namespace: "file", message });
    expect(() => verifyClientAuth({ ...request, signature })).toThrow(
      refused("ERR_AUTH_SIGNATURE", 4401),
    );
  });

  it("refuses a replayed signature: the nonce is single use", async () => {
    const key = keyOf("ecdsa-256");
    const request = await attempt(key, authorized(key.publicLine));
    verifyClientAuth(request);
    expect(() => verifyClientAuth(request)).toThrow(refused("ERR_AUTH_NONCE", 4401));
  });

  it("spends the nonce on a failed attempt too", async () => {
    const key = keyOf("ed25519");
    const request = await attempt(key, authorized(key.publicLine));
    const tampered = Buffer.from(request.signature);
    tampered.writeUInt8(tampered.readUInt8(tampered.length - 1) ^ 1, tampered.length - 1);
    expect(() => verifyClientAuth({ ...request, signature: tampered })).toThrow(
      refused("ERR_AUTH_SIGNATURE", 4401),
    );
    expect(() => verifyClientAuth(request)).toThrow(refused("ERR_AUTH_NONCE", 4401));
  });

  it("refuses an expired nonce (injected clock)", async () => {
    let clock = 1_000;
    const issuer = createChallengeIssuer({ ttlMs: 30_000, now: () => clock });
    const key = keyOf("ed25519");
    const connection = connect(issuer.issue("c1"));
    expect(connection.issued.expiresAt).toBe(31_000);
    const auth = await signClientAuth(signerOf(key), connection.fields);
    clock = 31_000;
    expect(() =>
      verifyClientAuth({
        ...connection,
        ...auth,
        serverId,
        authorizedKeys: authorized(key.publicLine),
        remoteAddress: "10.0.0.7",
      }),
    ).toThrow(refused("ERR_AUTH_NONCE", 4401));
  });

  it("refuses an ssh-rsa (SHA-1) signature with 4401", async () => {
    const key = keyOf("rsa");
    const parsed = ssh2.utils.parseKey(readFileSync(key.privatePath));
    if (parsed instanceof Error) throw parsed;
    const sha1Signer: Signer = {
      ...signerOf(key),
      sign: async (data) => sshStrings("ssh-rsa", parsed.sign(Buffer.from(data), "sha1")),
    };
    const request = await attempt(key, authorized(key.publicLine));
    const { signature } = await signClientAuth(sha1Signer, {
      serverId,
      sessionId: request.issued.sessionId,
      nonce: request.issued.nonce,
      clientNonce: request.clientNonce,
      channelBinding: request.channelBinding,
    });
    expect(() => verifyClientAuth({ ...request, signature })).toThrow(
      refused("ERR_AUTH_ALGORITHM", 4401),
    );
  });

  it("admits options-prefixed lines and honours from= allow and deny", async () => {
    const key = keyOf("ed25519");
    const line = `no-pty,from="10.0.0.*,!10.0.0.5",no-port-forwarding ${key.publicLine}`;
    const entries = authorized(line);
    expect(verifyClientAuth(await attempt(key, entries)).entry.options.restrict).toBe(false);
    const mapped = await attempt(key, entries, { remoteAddress: "::ffff:10.0.0.9" });
    expect(verifyClientAuth(mapped).entry.line).toBe(1);
    for (const remoteAddress of ["10.0.0.5", "::ffff:10.0.0.5", "10.0.1.7", "2001:db8::1"]) {
      const request = await attempt(key, entries, { remoteAddress });
      expect(() => verifyClientAuth(request)).toThrow(refused("ERR_AUTH_NOT_AUTHORIZED", 4403));
    }
  });

  it("refuses a command= line, telling the client no more than 'not authorized'", async () => {
    const key = keyOf("ed25519");
    const entries = authorized(`restrict,command="echo \\"hi\\"" ${key.publicLine}`);
    const request = await attempt(key, entries);
    let error: unknown;
    try {
      verifyClientAuth(request);
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ code: "ERR_AUTH_NOT_AUTHORIZED", closeCode: 4403 });
    const { message, cause } = error as Error & { cause: Error };
    expect(message).toBe(
      `wire auth: key ${fingerprintOf(entries[0]?.key as never)} is not authorized on this server`,
    );
    // The detail is the cause, which the server logs and never sends.
    expect(cause.message).toContain('authorized_keys line 1 has command="echo "hi""');
  });

  it("tries every line of the key: a later line's from= may admit", async () => {
    const key = keyOf("ecdsa-384");
    const entries = authorized(
      `from="192.168.0.0/16" ${key.publicLine}`,
      `from="10.0.0.0/8" ${key.publicLine}`,
    );
    expect(verifyClientAuth(await attempt(key, entries)).entry.line).toBe(2);
  });

  it("refuses a key whose expiry-time has passed", async () => {
    const key = keyOf("ed25519");
    const entries = authorized(`expiry-time="20200101Z" ${key.publicLine}`);
    const request = await attempt(key, entries);
    expect(() => verifyClientAuth(request)).toThrow(refused("ERR_AUTH_NOT_AUTHORIZED", 4403));
  });

  it("refuses a signature over another connection's nonce", async () => {
    const issuer = createChallengeIssuer();
    const key = keyOf("ed25519");
    const first = connect(issuer.issue("a"));
    const second = connect(issuer.issue("b"));
    const auth = await signClientAuth(signerOf(key), first.fields);
    expect(() =>
      verifyClientAuth({
        ...second,
        clientNonce: first.clientNonce,
        ...auth,
        serverId,
        authorizedKeys: authorized(key.publicLine),
        remoteAddress: "10.0.0.7",
      }),
    ).toThrow(refused("ERR_AUTH_SIGNATURE", 4401));
  });

  it("refuses a channel binding mismatch (a relayed signature)", async () => {
    const key = keyOf("rsa");
    const issued = createChallengeIssuer().issue("c1");
    const clientSide = connect(issued, randomBytes(32));
    const auth = await signClientAuth(signerOf(key), clientSide.fields);
    expect(() =>
      verifyClientAuth({
        ...clientSide,
        channelBinding: randomBytes(32),
        ...auth,
        serverId,
        authorizedKeys: authorized(key.publicLine),
        remoteAddress: "10.0.0.7",
      }),
    ).toThrow(refused("ERR_AUTH_SIGNATURE", 4401));
  });

  it("refuses a signature by another key than AUTH names, and unsupported AUTH keys", async () => {
    const key = keyOf("ed25519");
    const request = await attempt(stranger, authorized(key.publicLine, stranger.publicLine));
    expect(() => verifyClientAuth({ ...request, publicKey: key.publicLine })).toThrow(
      refused("ERR_AUTH_SIGNATURE", 4401),
    );
    const dss = await attempt(key, authorized(key.publicLine), {
      publicKey: "ssh-dss AAAAB3NzaC1kc3MAAAA=",
    });
    expect(() => verifyClientAuth(dss)).toThrow(refused("ERR_AUTH_ALGORITHM", 4401));
  });
});

describe("createChallengeIssuer", () => {
  it("issues 16-byte session ids and distinct 32-byte nonces", () => {
    const issuer = createChallengeIssuer();
    const a = issuer.issue("a");
    const b = issuer.issue("b");
    expect(a.sessionId).toHaveLength(16);
    expect(a.nonce).toHaveLength(32);
    expect(Buffer.from(a.nonce).equals(Buffer.from(b.nonce))).toBe(false);
    expect(a.expiresInMs).toBe(30_000);
    expect(issuer.pending).toBe(2);
  });

  it("replaces a connection's unused challenge and forgets released ones", () => {
    const issuer = createChallengeIssuer();
    const old = issuer.issue("a");
    const current = issuer.issue("a");
    expect(() => old.redeem()).toThrow(refused("ERR_AUTH_NONCE", 4401));
    issuer.release("a");
    expect(() => current.redeem()).toThrow(refused("ERR_AUTH_NONCE", 4401));
    expect(issuer.pending).toBe(0);
  });

  it("sweeps expired challenges as new ones are issued", () => {
    let clock = 0;
    const issuer = createChallengeIssuer({ ttlMs: 100, now: () => clock });
    for (let i = 0; i < 5; i++) issuer.issue(`old-${i}`);
    clock = 150;
    issuer.issue("new");
    expect(issuer.pending).toBe(1);
  });
});
