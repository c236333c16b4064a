// OpenSSH `from="…"` semantics for the client's IP address (sshd's match_host_and_ip with
// UseDNS=no, its default): a comma-separated list of `*`/`?` wildcards and CIDR networks, any of
// them negated with `!`. A negated match denies outright; otherwise any match allows.
//
// Hostname patterns (`*.example.com`) are matched against the address text, exactly as sshd does
// without DNS, so they never match: we do no reverse lookups, which an attacker controlling their
// PTR records could forge anyway. Write networks instead.

import { type IpAddress, parseIpAddress } from "./ip-address.js";

interface Network {
  readonly address: IpAddress;
  readonly prefix: number;
}

/** Parses `addr/prefix` or a bare address (a /32 or /128); a string reason when it is invalid. */
function parseNetwork(pattern: string): Network | string | undefined {
  const [addressText = "", prefixText, extra] = pattern.split("/");
  const address = parseIpAddress(addressText);
  if (prefixText === undefined) {
    return address && { address, prefix: address.bytes.length * 8 };
  }
  const mapped = address?.family === 4 && addressText.includes(":");
  const prefix = Number(prefixText) - (mapped ? 96 : 0);
  if (!address || extra !== undefined || !/^\d{1,3}$/.test(prefixText)) {
    return `"${pattern}" is not a network`;
  }
  if (prefix < 0 || prefix > address.bytes.length * 8) {
    return `"${pattern}" has a prefix length out of range`;
  }
  // sshd refuses host bits set below the mask ("inconsistent mask length") rather than guess.
  if (!hostBitsClear(address.bytes, prefix)) {
    return `"${pattern}" has host bits set beyond the /${prefixText} mask`;
  }
  return { address, prefix };
}

/** True when the first `prefix` bits of `a` and `b` are equal (and both are one family). */
function samePrefix(a: Uint8Array, b: Uint8Array, prefix: number): boolean {
  if (a.length !== b.length) return false;
  for (let bit = 0; bit < prefix; bit++) {
    const mask = 0x80 >> (bit % 8);
    if (((a[bit >> 3] ?? 0) & mask) !== ((b[bit >> 3] ?? 0) & mask)) return false;
  }
  return true;
}

/** True when every bit of `bytes` from `prefix` on is zero. */
function hostBitsClear(bytes: Uint8Array, prefix: number): boolean {
  for (let bit = prefix; bit < bytes.length * 8; bit++) {
    if (((bytes[bit >> 3] ?? 0) & (0x80 >> (bit % 8))) !== 0) return false;
  }
  return true;
}

/** True when `text` matches the glob `pattern` (`*` any run, `?` one character). */
export function wildcardMatch(text: string, pattern: string): boolean {
  let t = 0;
  let p = 0;
  let starP = -1;
  let starT = 0;
  while (t < text.length) {
    if (p < pattern.length && (pattern[p] === "?" || pattern[p] === text[t])) {
      t++;
      p++;
    } else if (p < pattern.length && pattern[p] === "*") {
      starP = p++;
      starT = t;
    } else if (starP >= 0) {
      p = starP + 1;
      t = ++starT;
    } else {
      return false;
    }
  }
  while (pattern[p] === "*") p++;
  return p === pattern.length;
}

/**
 * Why a `from=` pattern is unusable (empty, whitespace, a broken network), or undefined when it
 * is fine. sshd denies every connection for a key whose list has such a pattern; we refuse the
 * authorized_keys line up front, which has the same effect and can be reported.
 */
export function checkFromPattern(pattern: string): string | undefined {
  const body = pattern.startsWith("!") ? pattern.slice(1) : pattern;
  if (body === "") return `empty pattern in "${pattern}"`;
  if (/\s/.test(body)) return `pattern "${pattern}" contains whitespace`;
  const network = body.includes("/") ? parseNetwork(body) : undefined;
  return typeof network === "string" ? network : undefined;
}

/**
 * True when `address` (the client's IP, as Node reports it) is allowed by the `from=` patterns:
 * no negated pattern matches and at least one plain pattern does. Unusable patterns deny.
 */
export function matchesFrom(patterns: readonly string[], address: string): boolean {
  const client = parseIpAddress(address);
  const text = client?.text ?? address.toLowerCase();
  let allowed = false;
  for (const pattern of patterns) {
    if (checkFromPattern(pattern) !== undefined) return false;
    const negated = pattern.startsWith("!");
    const body = (negated ? pattern.slice(1) : pattern).toLowerCase();
    const network = parseNetwork(body);
    const matched =
      typeof network === "object"
        ? client !== undefined && samePrefix(network.address.bytes, client.bytes, network.prefix)
        : wildcardMatch(text, body);
    if (matched && negated) return false;
    allowed ||= matched;
  }
  return allowed;
}
