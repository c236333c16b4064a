// Who the client is: the socket's peer, or — only when that peer is a configured trusted proxy —
// the address the proxy reported (a PROXY protocol header, read by proxy-protocol-listener.ts,
// or X-Forwarded-For). Limits, rate limits and logs use it. A header from any other peer is
// never believed, so a client cannot pick the address it is counted under.

import type { IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import { parseIpAddress } from "../transport/auth/ip-address.js";
import { checkFromPattern, matchesFrom } from "../transport/auth/matches-from.js";

/** What a Unix-socket peer (which has no address) is called, here and in trusted_proxies. */
export const unixPeer = "unix";

/** Why `text` is not a trusted-proxy list (addresses, CIDR networks, `unix`), or undefined. */
export function checkTrustedProxies(text: string): string | undefined {
  for (const entry of splitList(text)) {
    if (entry === unixPeer || parseIpAddress(entry) !== undefined) continue;
    const problem = entry.includes("/") ? checkFromPattern(entry) : "is not an address";
    if (problem === undefined && parseIpAddress(entry.split("/")[0] as string)) continue;
    return `must be a comma-separated list of addresses, CIDR networks and "unix"; ${JSON.stringify(entry)} ${problem ?? "is not a network"}`;
  }
  return undefined;
}

function splitList(text: string): string[] {
  return text
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "");
}

/** Where the address a proxy sent in its PROXY header is kept on the socket it came in on. */
const proxiedAddress = Symbol("syncline.proxiedAddress");

type AddressedSocket = Socket & { [proxiedAddress]?: string; _parent?: AddressedSocket };

/** Records the client address a trusted proxy's PROXY header gave for `socket`. */
export function setProxiedAddress(socket: Socket, address: string): void {
  (socket as AddressedSocket)[proxiedAddress] = address;
}

/**
 * The address of whoever is at the other end of `socket`: a PROXY header's when one was read
 * (on a TLS socket, from the TCP socket under it), else the socket's own, else `unix`.
 */
export function peerAddressOf(socket: Socket): string {
  const addressed = socket as AddressedSocket;
  const proxied = addressed[proxiedAddress] ?? addressed._parent?.[proxiedAddress];
  if (proxied !== undefined) return proxied;
  const remote = socket.remoteAddress;
  return remote === undefined ? unixPeer : (parseIpAddress(remote)?.text ?? remote);
}

/** Resolves client addresses from the trusted_proxies setting. */
export class ClientAddresses {
  readonly #patterns: readonly string[];
  readonly #trustsUnix: boolean;

  constructor(trustedProxies: string | undefined) {
    const entries = trustedProxies === undefined ? [] : splitList(trustedProxies);
    this.#trustsUnix = entries.includes(unixPeer);
    this.#patterns = entries.filter((entry) => entry !== unixPeer);
  }

  /** True when `address` (as peerAddressOf gives it) is a trusted proxy. */
  trusts(address: string): boolean {
    if (address === unixPeer) return this.#trustsUnix;
    return this.#patterns.length > 0 && matchesFrom(this.#patterns, address);
  }

  /**
   * The client of `request`: its peer, or walking X-Forwarded-For from the right while the hop
   * that added each entry is trusted, the last entry so vouched for.
   */
  of(request: IncomingMessage): string {
    let client = peerAddressOf(request.socket);
    const header = request.headers["x-forwarded-for"];
    if (header === undefined || !this.trusts(client)) return client;
    const hops = (Array.isArray(header) ? header.join(",") : header).split(",");
    for (let i = hops.length - 1; i >= 0 && this.trusts(client); i--) {
      const hop = forwardedAddress(hops[i] as string);
      if (hop === undefined) break;
      client = hop;
    }
    return client;
  }
}

/** An X-Forwarded-For entry as an address (a port, brackets dropped); undefined when not one. */
function forwardedAddress(entry: string): string | undefined {
  const trimmed = entry.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(trimmed)?.[1];
  const v4WithPort = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(trimmed)?.[1];
  return parseIpAddress(bracketed ?? v4WithPort ?? trimmed)?.text;
}

/**
 * The key an address is limited under: an IPv6 address by its /64 (one subscriber's network,
 * which a client can roam at will), anything else as it is.
 */
export function limitKeyOf(address: string): string {
  const parsed = parseIpAddress(address);
  if (parsed?.family !== 6) return address;
  const groups: string[] = [];
  for (let i = 0; i < 8; i += 2) {
    groups.push(
      (((parsed.bytes[i] as number) << 8) | (parsed.bytes[i + 1] as number)).toString(16),
    );
  }
  return `${groups.join(":")}::/64`;
}
