// The server side of the wire handshake's authentication, pure apart from crypto: single-use,
// expiring nonces tied to a connection, and the check of a client's AUTH against them and
// authorized_keys. Refusals carry close code 4401 (authentication failed) or 4403 (not allowed).

import { randomBytes as cryptoRandomBytes } from "node:crypto";
import { createError } from "../../protocol/errors.js";
import { authTranscript, wireAuthNamespace } from "../../protocol/wire-transcript.js";
import type { AuthorizedKey } from "./authorized-keys.js";
import { fingerprintOf } from "./fingerprint.js";
import { matchesFrom } from "./matches-from.js";
import { type PublicKey, parsePublicKey, samePublicKey } from "./public-key.js";
import { verifySshsig } from "./sshsig.js";

/** Options of a challenge issuer. */
export interface ChallengeIssuerOptions {
  /** How long a nonce stays valid, in ms. Default 30000. */
  readonly ttlMs?: number;
  /** The clock; injectable for tests. Default `Date.now`. */
  readonly now?: () => number;
  /** The randomness source; injectable for tests. Default `crypto.randomBytes`. */
  readonly randomBytes?: (size: number) => Uint8Array;
}

/** One connection's challenge: what CHALLENGE carries, plus the single use of its nonce. */
export interface IssuedChallenge {
  /** The connection it was issued to. */
  readonly connectionId: string;
  /** 16 random bytes naming the session. */
  readonly sessionId: Uint8Array;
  /** 32 random bytes the client must sign. */
  readonly nonce: Uint8Array;
  /** When the nonce expires (epoch ms, on the issuer's clock). */
  readonly expiresAt: number;
  /** The lifetime to announce in CHALLENGE (`expiresInMs`). */
  readonly expiresInMs: number;
  /**
   * Uses up the nonce; `verifyClientAuth` calls it first, so every attempt spends it, failed or
   * not. Throws ERR_AUTH_NONCE (4401) when it was used, replaced by a newer challenge for the same
   * connection, released, or has expired.
   */
  redeem(): void;
}

/** Issues challenges and remembers which nonces are still unused. */
export interface ChallengeIssuer {
  /** Issues a challenge for `connectionId`, replacing any unused one it had. */
  issue(connectionId: string): IssuedChallenge;
  /** Forgets the connection's unused challenge (call it when the connection closes). */
  release(connectionId: string): void;
  /** How many unused challenges are held (expired ones are swept as new ones are issued). */
  readonly pending: number;
}

function nonceError(connectionId: string, reason: string) {
  return createError("ERR_AUTH_NONCE", `wire auth: connection ${connectionId}: nonce ${reason}`);
}

/** Creates an issuer of single-use, expiring challenges (see `IssuedChallenge.redeem`). */
export function createChallengeIssuer(options: ChallengeIssuerOptions = {}): ChallengeIssuer {
  const ttlMs = options.ttlMs ?? 30_000;
  const now = options.now ?? Date.now;
  const random = options.randomBytes ?? ((size: number) => cryptoRandomBytes(size));
  const unused = new Map<string, IssuedChallenge>();

  // Map order is issue order and the TTL is fixed, so the expired entries are a prefix.
  function sweep(at: number): void {
    for (const [connectionId, issued] of unused) {
      if (issued.expiresAt > at) break;
      unused.delete(connectionId);
    }
  }

  function issue(connectionId: string): IssuedChallenge {
    const issuedAt = now();
    sweep(issuedAt);
    unused.delete(connectionId);
    const issued: IssuedChallenge = {
      connectionId,
      sessionId: random(16),
      nonce: random(32),
      expiresAt: issuedAt + ttlMs,
      expiresInMs: ttlMs,
      redeem() {
        const outstanding = unused.get(connectionId) === issued;
        if (outstanding) unused.delete(connectionId);
        if (now() >= issued.expiresAt) throw nonceError(connectionId, `expired after ${ttlMs} ms`);
        if (!outstanding) throw nonceError(connectionId, "was already used, replaced or released");
      },
    };
    unused.set(connectionId, issued);
    return issued;
  }

  return {
    issue,
    release: (connectionId) => void unused.delete(connectionId),
    get pending() {
      return unused.size;
    },
  };
}

/** A client's AUTH and everything it is checked against. */
export interface ClientAuthAttempt {
  /** The challenge this connection was sent. */
  readonly issued: IssuedChallenge;
  /** The client's nonce from HELLO. */
  readonly clientNonce: Uint8Array;
  /** This server's id, as sent in CHALLENGE. */
  readonly serverId: string;
  /** The TLS channel binding as the server sees it; empty without TLS. */
  readonly channelBinding: Uint8Array;
  /** AUTH's public key (OpenSSH text). */
  readonly publicKey: string;
  /** AUTH's SSHSIG of the transcript. */
  readonly signature: Uint8Array;
  /** The parsed authorized_keys entries. */
  readonly authorizedKeys: readonly AuthorizedKey[];
  /** The client's IP address as the socket reports it (IPv4-mapped IPv6 is fine). */
  readonly remoteAddress: string;
  /** The clock for `expiry-time=`. Default `Date.now`. */
  readonly now?: () => number;
}

/** A successful authentication. */
export interface ClientAuthResult {
  /** The client key's `SHA256:…` fingerprint. */
  readonly fingerprint: string;
  /** The client's key. */
  readonly key: PublicKey;
  /** The authorized_keys line that let it in. */
  readonly entry: AuthorizedKey;
}

function signatureError(reason: string) {
  return createError("ERR_AUTH_SIGNATURE", `wire auth: ${reason}`);
}

function parseClaimedKey(text: string): PublicKey {
  return parsePublicKey(text, (reason, problem) =>
    problem === "unsupported"
      ? createError("ERR_AUTH_ALGORITHM", `wire auth: public key: ${reason}`)
      : signatureError(`public key: ${reason}`),
  );
}

/**
 * ERR_AUTH_NOT_AUTHORIZED as the client sees it: its own key's fingerprint and nothing of the
 * server's policy (no file, line, address pattern or date). `detail` says why, for the server's
 * log only: it rides along as the error's cause, which is never sent.
 */
function notAuthorized(fingerprint: string, detail: string) {
  return createError(
    "ERR_AUTH_NOT_AUTHORIZED",
    `wire auth: key ${fingerprint} is not authorized on this server`,
    { cause: new Error(`key ${fingerprint} ${detail}`) },
  );
}

/** Why `entry` does not admit a client at `address` now, or undefined when it does. */
function refusal(entry: AuthorizedKey, address: string, at: number): string | undefined {
  const where = `${entry.source} line ${entry.line}`;
  const { from, expiresAt, command } = entry.options;
  if (command !== undefined) {
    // command= restricts a key to one command in sshd; syncline cannot honour that, and granting
    // the key everything instead would widen what the administrator allowed.
    return `${where} has command="${command}", which limits the key to one command: refused`;
  }
  if (from !== undefined && !matchesFrom(from, address)) {
    return `${where} does not allow address ${address} (from="${from.join(",")}")`;
  }
  if (expiresAt !== undefined && at >= expiresAt) {
    return `${where} expired at ${new Date(expiresAt).toISOString()}`;
  }
  return undefined;
}

/** The authorized_keys line that admits `key` from `address` now; else ERR_AUTH_NOT_AUTHORIZED. */
function admittingEntry(
  key: PublicKey,
  authorizedKeys: readonly AuthorizedKey[],
  address: string,
  at: number,
): AuthorizedKey {
  const fingerprint = fingerprintOf(key);
  const reasons: string[] = [];
  for (const entry of authorizedKeys) {
    if (!samePublicKey(entry.key, key)) continue;
    const reason = refusal(entry, address, at);
    if (reason === undefined) return entry;
    reasons.push(reason);
  }
  throw notAuthorized(fingerprint, reasons.join("; ") || "is not in authorized_keys");
}

/**
 * Checks a client's AUTH, cheapest first: spends the nonce; parses the key AUTH names (an RSA key
 * outside rsa-limits.ts is refused here); looks it up in authorized_keys, honouring `from=` and
 * `expiry-time=` and refusing `command=` keys; only then verifies the SSHSIG over this
 * connection's transcript (namespace `syncline-wire-auth@syncline`), which must carry that very
 * key. So a stranger's key is never used to verify anything (the price of a verification is the
 * key's to choose); like sshd, this tells an unauthenticated client whether a public key is
 * authorized (ERR_AUTH_NOT_AUTHORIZED, or a failed signature), never why not.
 * Throws ERR_AUTH_NONCE, ERR_AUTH_SIGNATURE or ERR_AUTH_ALGORITHM (4401), or
 * ERR_AUTH_NOT_AUTHORIZED (4403).
 */
export function verifyClientAuth(attempt: ClientAuthAttempt): ClientAuthResult {
  const { issued } = attempt;
  issued.redeem();
  const claimed = parseClaimedKey(attempt.publicKey);
  const at = (attempt.now ?? Date.now)();
  const entry = admittingEntry(claimed, attempt.authorizedKeys, attempt.remoteAddress, at);
  const message = authTranscript({
    serverId: attempt.serverId,
    sessionId: issued.sessionId,
    nonce: issued.nonce,
    clientNonce: attempt.clientNonce,
    channelBinding: attempt.channelBinding,
  });
  verifySshsig({
    signature: attempt.signature,
    namespace: wireAuthNamespace,
    message,
    expectedKey: claimed,
  });
  return { fingerprint: entry.fingerprint, key: claimed, entry };
}
