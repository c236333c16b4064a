// ECDSA signatures in two encodings: OpenSSL (and so ssh2's `key.sign`/`key.verify`) uses DER
// `SEQUENCE { INTEGER r, INTEGER s }`; SSH puts `mpint r ‖ mpint s` inside the signature blob
// (RFC 5656 §3.1.2). Both hold r and s as minimal two's-complement integers, so converting is
// re-framing the same bytes.

import { createSshReader } from "./ssh-reader.js";
import { sshStrings } from "./ssh-string.js";

const derSequence = 0x30;
const derInteger = 0x02;

function derLength(length: number): Buffer {
  // ECDSA signatures up to P-521 stay below 256 bytes: one long-form length byte is enough.
  return length < 0x80 ? Buffer.from([length]) : Buffer.from([0x81, length]);
}

function derIntegerOf(value: Buffer): Buffer {
  return Buffer.concat([Buffer.from([derInteger]), derLength(value.length), value]);
}

/** Re-frames an SSH ECDSA signature (`mpint r ‖ mpint s`) as DER for OpenSSL. */
export function ecdsaSshToDer(signature: Uint8Array, fail: (reason: string) => Error): Buffer {
  const reader = createSshReader(signature, fail);
  const r = reader.readString();
  const s = reader.readString();
  reader.end();
  if (r.length === 0 || s.length === 0) throw fail("empty ECDSA r or s");
  const body = Buffer.concat([derIntegerOf(r), derIntegerOf(s)]);
  return Buffer.concat([Buffer.from([derSequence]), derLength(body.length), body]);
}

/** Re-frames a DER ECDSA signature (from OpenSSL) as SSH's `mpint r ‖ mpint s`. */
export function ecdsaDerToSsh(der: Uint8Array): Buffer {
  let offset = 0;
  const fail = (reason: string) => new Error(`ecdsa signature: malformed DER: ${reason}`);
  const readHeader = (tag: number): number => {
    if (der[offset] !== tag) throw fail(`expected tag ${tag} at byte ${offset}`);
    let length = der[offset + 1] ?? 0;
    offset += 2;
    if (length === 0x81) {
      length = der[offset] ?? 0;
      offset += 1;
    } else if (length > 0x80) {
      throw fail(`unsupported length form ${length}`);
    }
    if (offset + length > der.length) throw fail("truncated");
    return length;
  };
  readHeader(derSequence);
  const integers: Buffer[] = [];
  for (let i = 0; i < 2; i++) {
    const length = readHeader(derInteger);
    integers.push(Buffer.from(der.subarray(offset, offset + length)));
    offset += length;
  }
  return sshStrings(...integers);
}
