// The bytes both ends of a wire connection sign during the handshake (docs/design/wire-v1.md,
// "Authentication transcript"): every field length-prefixed, so no two field lists share bytes.

/** The first field of every v1 transcript; it pins the protocol version the signature is for. */
export const wireTranscriptLabel = "syncline-wire-v1";

/** The SSHSIG namespace of the client's signature (AUTH). */
export const wireAuthNamespace = "syncline-wire-auth@syncline";

/** The SSHSIG namespace of the server's host-key signature (CHALLENGE). */
export const wireHostNamespace = "syncline-wire-host@syncline";

/** What a transcript covers. */
export interface TranscriptFields {
  /** The server's id, from CHALLENGE. */
  readonly serverId: string;
  /** The connection's 16-byte session id, from CHALLENGE. */
  readonly sessionId: Uint8Array;
  /** The server's single-use 32-byte nonce, from CHALLENGE. */
  readonly nonce: Uint8Array;
  /** The client's 32-byte nonce, from HELLO. */
  readonly clientNonce: Uint8Array;
  /**
   * Under TLS, `exportKeyingMaterial(32, "EXPORTER-Channel-Binding")` (RFC 9266) as this end sees
   * it; empty without TLS. It ties both signatures to this one TLS connection.
   */
  readonly channelBinding: Uint8Array;
}

const utf8 = new TextEncoder();

/**
 * The transcript the client signs (SSHSIG, namespace `wireAuthNamespace`, sha512):
 * `sshString(label) ‖ sshString(serverId) ‖ sshString(sessionId) ‖ sshString(nonce) ‖
 * sshString(clientNonce) ‖ sshString(channelBinding)`, where sshString is a u32 big-endian length
 * then the bytes (strings as UTF-8).
 */
export function authTranscript(fields: TranscriptFields): Uint8Array {
  return concatSshStrings([
    utf8.encode(wireTranscriptLabel),
    utf8.encode(fields.serverId),
    fields.sessionId,
    fields.nonce,
    fields.clientNonce,
    fields.channelBinding,
  ]);
}

/**
 * The transcript the server signs with its host key (SSHSIG, namespace `wireHostNamespace`).
 * It is the same bytes as `authTranscript`, channel binding included: the namespaces keep the
 * two signatures apart, and the binding stops a TLS man in the middle from relaying the real
 * server's CHALLENGE to pass for it before the client's AUTH fails.
 */
export function hostTranscript(fields: TranscriptFields): Uint8Array {
  return authTranscript(fields);
}

function concatSshStrings(parts: readonly Uint8Array[]): Uint8Array {
  const total = parts.reduce((sum, part) => sum + 4 + part.byteLength, 0);
  const bytes = new Uint8Array(total);
  const view = new DataView(bytes.buffer);
  let offset = 0;
  for (const part of parts) {
    view.setUint32(offset, part.byteLength);
    bytes.set(part, offset + 4);
    offset += 4 + part.byteLength;
  }
  return bytes;
}
