// Mutual authentication: the server signs the handshake transcript with its host key, and the
// client checks that signature and, when it pinned one, the host key's fingerprint.

import { createError } from "../../protocol/errors.js";
import {
  hostTranscript,
  type TranscriptFields,
  wireHostNamespace,
} from "../../protocol/wire-transcript.js";
import { fingerprintOf } from "./fingerprint.js";
import { type PublicKey, parsePublicKey, samePublicKey } from "./public-key.js";
import type { Signer } from "./signer.js";
import { createSshsig, verifySshsig } from "./sshsig.js";

/**
 * The server's CHALLENGE `hostSignature`: SSHSIG (namespace `syncline-wire-host@syncline`) of the
 * host transcript, made with `hostSigner`; its `publicKey` is CHALLENGE's `hostKey`.
 */
export function signHostTranscript(hostSigner: Signer, fields: TranscriptFields): Promise<Buffer> {
  return createSshsig({
    signer: hostSigner,
    namespace: wireHostNamespace,
    message: hostTranscript(fields),
  });
}

/** What the client checks in CHALLENGE. */
export interface HostSignatureCheck extends TranscriptFields {
  /** CHALLENGE's `hostKey` (OpenSSH text). */
  readonly hostKey: string;
  /** CHALLENGE's `hostSignature`. */
  readonly hostSignature: Uint8Array;
  /** The fingerprint the user pinned (`SHA256:…`, as `ssh-keygen -lf` prints it), if any. */
  readonly pinnedFingerprint?: string;
}

/**
 * Verifies the server's host signature over this connection's transcript and returns the host
 * key and its fingerprint. Throws ERR_AUTH_HOST_KEY when the key is not the pinned one (checked
 * first, so a wrong server is named as such), else ERR_AUTH_SIGNATURE or ERR_AUTH_ALGORITHM.
 */
export function verifyHostSignature(check: HostSignatureCheck): {
  fingerprint: string;
  key: PublicKey;
} {
  const key = parsePublicKey(check.hostKey, (reason, problem) =>
    createError(
      problem === "unsupported" ? "ERR_AUTH_ALGORITHM" : "ERR_AUTH_SIGNATURE",
      `wire host key: ${reason}`,
    ),
  );
  const fingerprint = fingerprintOf(key);
  const pinned = check.pinnedFingerprint;
  if (pinned !== undefined) {
    const expected = pinned.startsWith("SHA256:") ? pinned : `SHA256:${pinned}`;
    if (fingerprint !== expected.replace(/=+$/, "")) {
      throw createError(
        "ERR_AUTH_HOST_KEY",
        `wire host key mismatch: server presented ${fingerprint}, pinned is ${pinned}`,
      );
    }
  }
  const signer = verifySshsig({
    signature: check.hostSignature,
    namespace: wireHostNamespace,
    message: hostTranscript(check),
  });
  if (!samePublicKey(signer, key)) {
    throw createError(
      "ERR_AUTH_SIGNATURE",
      `wire host key: signature was made by ${fingerprintOf(signer)}, not by ${fingerprint}`,
    );
  }
  return { fingerprint, key };
}
