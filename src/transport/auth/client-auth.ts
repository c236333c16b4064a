// The client's half of the wire handshake's authentication: sign this connection's transcript
// with the user's key, giving the body of AUTH.

import {
  authTranscript,
  type TranscriptFields,
  wireAuthNamespace,
} from "../../protocol/wire-transcript.js";
import type { Signer } from "./signer.js";
import { createSshsig } from "./sshsig.js";

/** The body of an AUTH message. */
export interface ClientAuth {
  /** The signer's public key, OpenSSH text. */
  readonly publicKey: string;
  /** SSHSIG (namespace `syncline-wire-auth@syncline`, sha512) of the transcript. */
  readonly signature: Buffer;
}

/**
 * Signs the transcript of this connection (the CHALLENGE's server id, session id and nonce, the
 * client's HELLO nonce, and the TLS channel binding as the client sees it, empty without TLS).
 */
export async function signClientAuth(
  signer: Signer,
  fields: TranscriptFields,
): Promise<ClientAuth> {
  const signature = await createSshsig({
    signer,
    namespace: wireAuthNamespace,
    message: authTranscript(fields),
    hashAlgorithm: "sha512",
  });
  return { publicKey: signer.publicKey, signature };
}
