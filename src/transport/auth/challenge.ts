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

/** Why `entry` does not admit a client at `address` now, or undefined when it does. */
function refusal(entry: AuthorizedKey, address: string, at: number): string | undefined {
  const where = `${entry.source} line ${entry.line}`;
  const { from, expiresAt } = entry.options;
  if (from !== undefined && !matchesFrom(from, address)) {
    return `${where} does not allow address ${address} (from="${from.join(",")}")`;
  }
  if (expiresAt !== undefined && at >= expiresAt) {
    return `${where} expired at ${new Date(expiresAt).toISOString()}`;
  }
  return undefined;
}

/**
 * Checks a client's AUTH: spends the nonce, verifies the SSHSIG over this connection's transcript
 * (namespace `syncline-wire-auth@syncline`) and that it was made by the key AUTH names, then looks
 * the key up in authorized_keys, honouring `from=` and `expiry-time=`. The signature is checked
 * before authorization so only a key's holder learns whether that key is authorized.
 * Throws ERR_AUTH_NONCE, ERR_AUTH_SIGNATURE or ERR_AUTH_ALGORITHM (4401), or
 * ERR_AUTH_NOT_AUTHORIZED (4403).
 */
export function verifyClientAuth(attempt: ClientAuthAttempt): ClientAuthResult {
  const { issued } = attempt;
  issued.redeem();
  const claimed = parseClaimedKey(attempt.publicKey);
  const message = authTranscript({
    serverId: attempt.serverId,
    sessionId: issued.sessionId,
    nonce: issued.nonce,
    clientNonce: attempt.clientNonce,
    channelBinding: attempt.channelBinding,
  });
  const signer = verifySshsig({
    signature: attempt.signature,
    namespace: wireAuthNamespace,
    message,
  });
  if (!samePublicKey(signer, claimed)) {
    throw signatureError(`signature was made by ${fingerprintOf(signer)}, not the key AUTH names`);
  }
  const fingerprint = fingerprintOf(claimed);
  const entries = attempt.authorizedKeys.filter((entry) => samePublicKey(entry.key, claimed));
  const at = (attempt.now ?? Date.now)();
  const reasons: string[] = [];
  for (const entry of entries) {
    const reason = refusal(entry, attempt.remoteAddress, at);
    if (reason === undefined) return { fingerprint, key: claimed, entry };
    reasons.push(reason);
  }
  const why = reasons.length > 0 ? reasons.join("; ") : "is not in authorized_keys";
  throw createError("ERR_AUTH_NOT_AUTHORIZED", `wire auth: key ${fingerprint} ${why}`);
}
