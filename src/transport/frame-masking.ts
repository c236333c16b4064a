// Which masking key a client puts on its WebSocket frames. Clients mask so that bytes a script
// picks cannot be read as an HTTP request by a proxy on the path that does not understand
// WebSocket (RFC 6455 §10.3): the key must be unpredictable wherever such a proxy can sit. On a
// Unix socket or a loopback address nothing sits between the two ends, so a zero key does the
// same job, and ws then skips the XOR pass and the copy of every message it makes to mask it
// (large transfers on loopback ran about 7% faster). Everywhere else, TLS included (an
// inspecting proxy sees the plain frames), the key stays random.

import { isIP } from "node:net";
import type { ServerAddress } from "./server-address.js";

/** ws's `generateMask` option: fills the 4-byte key; here with zeros. */
export function zeroMask(mask: Buffer): void {
  mask.fill(0);
}

/** True when no intermediary can see frames sent to `address` (a Unix socket, a loopback host). */
export function isDirectPath(address: ServerAddress): boolean {
  if (address.kind === "unix") return true;
  return isLoopbackHost(hostname(address.host));
}

/** ws options for a client dialing `address`: a zero mask on a direct path, else ws's default. */
export function maskOptionsFor(address: ServerAddress): { generateMask?: (mask: Buffer) => void } {
  return isDirectPath(address) ? { generateMask: zeroMask } : {};
}

/** `host` of a `host:port` as URLs write it, without the port or IPv6 brackets. */
function hostname(host: string): string {
  if (host.startsWith("[")) return host.slice(1, host.indexOf("]"));
  const colon = host.lastIndexOf(":");
  return colon === -1 ? host : host.slice(0, colon);
}

function isLoopbackHost(name: string): boolean {
  const lower = name.toLowerCase();
  if (lower === "localhost" || lower.endsWith(".localhost")) return true;
  const family = isIP(lower);
  if (family === 4) return lower.startsWith("127.");
  if (family === 6) return lower === "::1" || lower === "0:0:0:0:0:0:0:1";
  return false;
}
