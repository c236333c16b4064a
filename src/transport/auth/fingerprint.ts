// Key fingerprints in OpenSSH's default form, so users can compare them with `ssh-keygen -lf`.

import { createHash } from "node:crypto";

/**
 * `SHA256:<base64 of the SHA-256 of the key blob, without padding>`, exactly as `ssh-keygen -lf`
 * prints it. Accepts the wire blob itself or anything holding one (a `PublicKey`).
 */
export function fingerprintOf(key: Uint8Array | { readonly blob: Uint8Array }): string {
  const blob = key instanceof Uint8Array ? key : key.blob;
  const digest = createHash("sha256").update(blob).digest("base64");
  return `SHA256:${digest.replace(/=+$/, "")}`;
}
