// IP addresses as bytes, for `from=` network matching: IPv4, IPv6 (with `::`, an embedded IPv4
// tail or a zone id), and IPv4-mapped IPv6 (`::ffff:1.2.3.4`) folded to IPv4, as sshd does
// with the addresses of dual-stack sockets.

import { isIPv4, isIPv6 } from "node:net";

/** A parsed IP address. */
export interface IpAddress {
  /** 4 or 6; an IPv4-mapped IPv6 address is 4. */
  readonly family: 4 | 6;
  /** 4 or 16 bytes, network order. */
  readonly bytes: Uint8Array;
  /** The canonical text for wildcard matching: dotted IPv4, or lower-case IPv6 without zone. */
  readonly text: string;
}

function ipv4Bytes(text: string): number[] {
  return text.split(".").map(Number);
}

function ipv6Groups(part: string): number[] {
  if (part === "") return [];
  return part.split(":").flatMap((group) => {
    if (!group.includes(".")) return [Number.parseInt(group, 16)];
    const [a = 0, b = 0, c = 0, d = 0] = ipv4Bytes(group);
    return [(a << 8) | b, (c << 8) | d];
  });
}

function ipv6Bytes(text: string): Uint8Array {
  const [head = "", tail] = text.split("::");
  const headGroups = ipv6Groups(head);
  const tailGroups = tail === undefined ? [] : ipv6Groups(tail);
  const zeros = new Array(8 - headGroups.length - tailGroups.length).fill(0);
  const groups = [...headGroups, ...zeros, ...tailGroups];
  return Uint8Array.from(groups.flatMap((group) => [group >> 8, group & 0xff]));
}

function isMapped(bytes: Uint8Array): boolean {
  return (
    bytes.subarray(0, 10).every((byte) => byte === 0) && bytes[10] === 0xff && bytes[11] === 0xff
  );
}

/** Parses an IP address, or returns undefined when `text` is not one (a hostname, a typo). */
export function parseIpAddress(text: string): IpAddress | undefined {
  const bare = text.replace(/%.*$/, "").toLowerCase();
  if (isIPv4(bare)) return { family: 4, bytes: Uint8Array.from(ipv4Bytes(bare)), text: bare };
  if (!isIPv6(bare)) return undefined;
  const bytes = ipv6Bytes(bare);
  if (!isMapped(bytes)) return { family: 6, bytes, text: bare };
  const v4 = bytes.slice(12);
  return { family: 4, bytes: v4, text: v4.join(".") };
}
