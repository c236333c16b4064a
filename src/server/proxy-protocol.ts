// The PROXY protocol header (HAProxy's, also sent by nginx, AWS NLB and others) that a proxy puts
// before a connection's bytes to say whose connection it is: v1 (a text line) and v2 (binary).
// Parsing only; proxy-protocol-listener.ts reads it off sockets.

/** What the first bytes of a connection hold. */
export type ProxyHeader =
  /** Not enough bytes yet to tell. */
  | { readonly kind: "incomplete" }
  /** Not a PROXY header, or a broken one. */
  | { readonly kind: "invalid"; readonly reason: string }
  /**
   * A header of `length` bytes. `source` is the client's address; undefined when the proxy
   * speaks for itself (v1 UNKNOWN, v2 LOCAL, or an address family other than TCP over IP).
   */
  | { readonly kind: "header"; readonly length: number; readonly source: string | undefined };

const v1Prefix = Buffer.from("PROXY ");
const v1MaxBytes = 107;
const v2Signature = Buffer.from([
  0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
]);
/** Most bytes a v2 header may take here: addresses and TLVs of a real proxy fit easily. */
const v2MaxBytes = 16 + 1024;

/** Parses the PROXY header at the start of `bytes`. */
export function parseProxyHeader(bytes: Buffer): ProxyHeader {
  if (startsWith(bytes, v2Signature)) return parseV2(bytes);
  if (startsWith(bytes, v1Prefix)) return parseV1(bytes);
  const prefixOfOne =
    v2Signature.subarray(0, bytes.length).equals(bytes.subarray(0, v2Signature.length)) ||
    v1Prefix.subarray(0, bytes.length).equals(bytes.subarray(0, v1Prefix.length));
  return prefixOfOne && bytes.length < v2Signature.length
    ? { kind: "incomplete" }
    : { kind: "invalid", reason: "the connection does not start with a PROXY header" };
}

function startsWith(bytes: Buffer, prefix: Buffer): boolean {
  return bytes.length >= prefix.length && bytes.subarray(0, prefix.length).equals(prefix);
}

function parseV1(bytes: Buffer): ProxyHeader {
  const end = bytes.indexOf("\r\n");
  if (end === -1) {
    return bytes.length >= v1MaxBytes
      ? { kind: "invalid", reason: "PROXY v1 line longer than 107 bytes" }
      : { kind: "incomplete" };
  }
  const line = bytes.subarray(0, end).toString("latin1");
  const [, family, source, destination, sourcePort, destinationPort, extra] = line.split(" ");
  const length = end + 2;
  if (family === "UNKNOWN") return { kind: "header", length, source: undefined };
  const validPort = (port: string | undefined) =>
    port !== undefined && /^\d{1,5}$/.test(port) && Number(port) <= 65535;
  const addressOk = family === "TCP4" ? isV4 : family === "TCP6" ? isV6 : () => false;
  if (
    extra !== undefined ||
    !addressOk(source) ||
    !addressOk(destination) ||
    !validPort(sourcePort) ||
    !validPort(destinationPort)
  ) {
    return { kind: "invalid", reason: `malformed PROXY v1 line ${JSON.stringify(line)}` };
  }
  return { kind: "header", length, source };
}

function isV4(text: string | undefined): boolean {
  return (
    text !== undefined &&
    /^\d{1,3}(\.\d{1,3}){3}$/.test(text) &&
    text.split(".").every((part) => Number(part) <= 255)
  );
}

function isV6(text: string | undefined): boolean {
  return text !== undefined && /^[0-9a-fA-F:.]+$/.test(text) && text.includes(":");
}

function parseV2(bytes: Buffer): ProxyHeader {
  if (bytes.length < 16) return { kind: "incomplete" };
  const versionAndCommand = bytes[12] as number;
  if (versionAndCommand >> 4 !== 2) {
    return { kind: "invalid", reason: `PROXY v2 header of version ${versionAndCommand >> 4}` };
  }
  const length = 16 + bytes.readUInt16BE(14);
  if (length > v2MaxBytes) return { kind: "invalid", reason: "PROXY v2 header too long" };
  if (bytes.length < length) return { kind: "incomplete" };
  const command = versionAndCommand & 0x0f;
  if (command === 0) return { kind: "header", length, source: undefined }; // LOCAL
  if (command !== 1) return { kind: "invalid", reason: `PROXY v2 command ${command}` };
  const family = bytes[13] as number;
  const body = bytes.subarray(16, length);
  if (family === 0x11 && body.length >= 12) {
    return { kind: "header", length, source: [...body.subarray(0, 4)].join(".") };
  }
  if (family === 0x21 && body.length >= 36) {
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(body.readUInt16BE(i).toString(16));
    return { kind: "header", length, source: groups.join(":") };
  }
  // UDP, Unix sockets, unspecified: no IP client to speak of.
  return { kind: "header", length, source: undefined };
}
