// Writing the SSH wire encoding (RFC 4251 §5): a `string` is a u32 big-endian length followed by
// the bytes. SSHSIG, signature blobs and the auth transcript are all sequences of these.

/** The bytes of an SSH `uint32`. */
export function sshU32(value: number): Buffer {
  const bytes = Buffer.allocUnsafe(4);
  bytes.writeUInt32BE(value, 0);
  return bytes;
}

/** The SSH `string` encoding of `value`: its length as a u32, then the bytes (UTF-8 for text). */
export function sshString(value: Uint8Array | string): Buffer {
  const bytes = typeof value === "string" ? Buffer.from(value, "utf8") : value;
  return Buffer.concat([sshU32(bytes.length), bytes]);
}

/** Several SSH `string`s back to back. */
export function sshStrings(...values: ReadonlyArray<Uint8Array | string>): Buffer {
  return Buffer.concat(values.map(sshString));
}
