import type { IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import { describe, expect, it } from "vitest";
import {
  ClientAddresses,
  checkTrustedProxies,
  limitKeyOf,
  peerAddressOf,
  setProxiedAddress,
} from "./trusted-proxies.js";

const request = (peer: string | undefined, forwarded?: string) =>
  ({
    socket: { remoteAddress: peer } as Socket,
    headers: forwarded === undefined ? {} : { "x-forwarded-for": forwarded },
  }) as unknown as IncomingMessage;

describe("ClientAddresses", () => {
  const addresses = new ClientAddresses("10.0.0.0/8, 192.0.2.1");

  it("believes X-Forwarded-For only from a trusted peer, hop by hop from the right", () => {
    expect(addresses.of(request("10.1.2.3", "203.0.113.9"))).toBe("203.0.113.9");
    expect(addresses.of(request("198.51.100.1", "203.0.113.9"))).toBe("198.51.100.1");
    // The client put a fake entry first; the proxies added theirs after it.
    expect(addresses.of(request("10.1.2.3", "1.1.1.1, 203.0.113.9, 192.0.2.1"))).toBe(
      "203.0.113.9",
    );
    expect(addresses.of(request("::ffff:10.1.2.3", "[2001:db8::7]:443"))).toBe("2001:db8::7");
    expect(addresses.of(request("10.1.2.3", "203.0.113.9:5000"))).toBe("203.0.113.9");
    // Garbage stops the walk at the hop that reported it.
    expect(addresses.of(request("10.1.2.3", "unknown, 192.0.2.1"))).toBe("192.0.2.1");
  });

  it("names a Unix-socket peer `unix`, trusted only when listed", () => {
    expect(addresses.of(request(undefined, "203.0.113.9"))).toBe("unix");
    const withUnix = new ClientAddresses("unix");
    expect(withUnix.of(request(undefined, "203.0.113.9"))).toBe("203.0.113.9");
    expect(new ClientAddresses(undefined).trusts("127.0.0.1")).toBe(false);
  });

  it("prefers the address a PROXY header gave, on the socket or the one under TLS", () => {
    const raw = { remoteAddress: "10.0.0.1" } as Socket;
    setProxiedAddress(raw, "203.0.113.4");
    expect(peerAddressOf(raw)).toBe("203.0.113.4");
    expect(peerAddressOf({ remoteAddress: "10.0.0.1", _parent: raw } as unknown as Socket)).toBe(
      "203.0.113.4",
    );
  });
});

describe("trusted proxy lists and limit keys", () => {
  it("accepts addresses, networks and unix; names what it refuses", () => {
    expect(checkTrustedProxies("10.0.0.0/8,::1, unix ,2001:db8::/32")).toBeUndefined();
    expect(checkTrustedProxies("10.0.0.0/33")).toMatch(/10\.0\.0\.0\/33/);
    expect(checkTrustedProxies("proxy.local")).toMatch(/"proxy\.local" is not an address/);
  });

  it("counts an IPv6 address by its /64, anything else as it is", () => {
    expect(limitKeyOf("2001:db8:1:2:aaaa::1")).toBe("2001:db8:1:2::/64");
    expect(limitKeyOf("2001:db8:1:2:bbbb::9")).toBe("2001:db8:1:2::/64");
    expect(limitKeyOf("203.0.113.9")).toBe("203.0.113.9");
    expect(limitKeyOf("unix")).toBe("unix");
  });
});
