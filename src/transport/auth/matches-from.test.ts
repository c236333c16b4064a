import { describe, expect, it } from "vitest";
import { parseIpAddress } from "./ip-address.js";
import { checkFromPattern, matchesFrom, wildcardMatch } from "./matches-from.js";

describe("matchesFrom", () => {
  it("matches wildcards against the address", () => {
    expect(matchesFrom(["10.0.0.*"], "10.0.0.7")).toBe(true);
    expect(matchesFrom(["10.0.0.?"], "10.0.0.7")).toBe(true);
    expect(matchesFrom(["10.0.0.?"], "10.0.0.17")).toBe(false);
    expect(matchesFrom(["10.0.1.*"], "10.0.0.7")).toBe(false);
    expect(matchesFrom(["*"], "192.168.1.1")).toBe(true);
  });

  it("lets a negated match deny even when another pattern allows", () => {
    expect(matchesFrom(["10.0.0.*", "!10.0.0.5"], "10.0.0.5")).toBe(false);
    expect(matchesFrom(["!10.0.0.5", "10.0.0.*"], "10.0.0.5")).toBe(false);
    expect(matchesFrom(["10.0.0.*", "!10.0.0.5"], "10.0.0.6")).toBe(true);
  });

  it("needs a positive match: negations alone allow nothing", () => {
    expect(matchesFrom(["!10.0.0.5"], "10.0.0.6")).toBe(false);
    expect(matchesFrom([], "10.0.0.6")).toBe(false);
  });

  it("matches IPv4 CIDR networks", () => {
    expect(matchesFrom(["10.0.0.0/8"], "10.200.3.4")).toBe(true);
    expect(matchesFrom(["10.0.0.0/8"], "11.0.0.1")).toBe(false);
    expect(matchesFrom(["192.168.1.128/25"], "192.168.1.200")).toBe(true);
    expect(matchesFrom(["192.168.1.128/25"], "192.168.1.100")).toBe(false);
    expect(matchesFrom(["0.0.0.0/0"], "8.8.8.8")).toBe(true);
    expect(matchesFrom(["10.0.0.0/8", "!10.1.0.0/16"], "10.1.2.3")).toBe(false);
  });

  it("matches IPv6 addresses and networks, whatever their spelling", () => {
    expect(matchesFrom(["2001:db8::/32"], "2001:db8:1::5")).toBe(true);
    expect(matchesFrom(["2001:db8::/32"], "2001:db9::5")).toBe(false);
    expect(matchesFrom(["2001:db8:0:0::1"], "2001:db8::1")).toBe(true);
    expect(matchesFrom(["::1"], "::1")).toBe(true);
    expect(matchesFrom(["fe80::/10"], "fe80::1%eth0")).toBe(true);
    expect(matchesFrom(["2001:DB8::*"], "2001:db8::42")).toBe(true);
  });

  it("treats IPv4-mapped IPv6 client addresses as IPv4", () => {
    expect(matchesFrom(["10.0.0.0/8"], "::ffff:10.1.2.3")).toBe(true);
    expect(matchesFrom(["10.0.0.*"], "::ffff:10.0.0.3")).toBe(true);
    expect(matchesFrom(["10.0.0.*", "!10.0.0.3"], "::ffff:10.0.0.3")).toBe(false);
    expect(matchesFrom(["127.0.0.1"], "::ffff:127.0.0.1")).toBe(true);
    expect(matchesFrom(["::ffff:10.0.0.0/104"], "10.9.9.9")).toBe(true);
  });

  it("never matches hostname patterns (no DNS), so a negated hostname never denies", () => {
    expect(matchesFrom(["*.example.com"], "10.0.0.1")).toBe(false);
    expect(matchesFrom(["localhost"], "127.0.0.1")).toBe(false);
    expect(matchesFrom(["10.0.0.*", "!evil.example.com"], "10.0.0.1")).toBe(true);
  });

  it("denies when a pattern is unusable, as sshd does", () => {
    expect(matchesFrom(["10.0.0.1/8"], "10.0.0.1")).toBe(false);
    expect(matchesFrom(["*", "10.0.0.0/33"], "10.0.0.1")).toBe(false);
    expect(matchesFrom(["*", ""], "10.0.0.1")).toBe(false);
  });
});

describe("checkFromPattern", () => {
  it("accepts wildcards, networks and hostnames", () => {
    for (const pattern of ["10.0.0.*", "!10.0.0.5", "10.0.0.0/8", "::/0", "*.example.com"]) {
      expect(checkFromPattern(pattern)).toBeUndefined();
    }
  });

  it("names broken networks and empty patterns", () => {
    expect(checkFromPattern("10.0.0.1/8")).toContain("host bits");
    expect(checkFromPattern("10.0.0.0/40")).toContain("out of range");
    expect(checkFromPattern("10.0.0.0/x")).toContain("not a network");
    expect(checkFromPattern("!")).toContain("empty");
    expect(checkFromPattern("10.0.0.1 ")).toContain("whitespace");
  });
});

describe("wildcardMatch", () => {
  it("handles stars anywhere and backtracks", () => {
    expect(wildcardMatch("abcabd", "*abd")).toBe(true);
    expect(wildcardMatch("abc", "a*c*")).toBe(true);
    expect(wildcardMatch("abc", "a*d")).toBe(false);
    expect(wildcardMatch("", "*")).toBe(true);
    expect(wildcardMatch("a".repeat(40), "*a*a*a*a*b")).toBe(false);
  });
});

describe("parseIpAddress", () => {
  it("parses IPv4, IPv6 and mapped addresses", () => {
    expect(parseIpAddress("1.2.3.4")?.bytes).toEqual(Uint8Array.from([1, 2, 3, 4]));
    expect(parseIpAddress("::ffff:1.2.3.4")).toMatchObject({ family: 4, text: "1.2.3.4" });
    expect(parseIpAddress("::1.2.3.4")?.family).toBe(6);
    expect(parseIpAddress("1::")?.bytes[1]).toBe(1);
    expect(parseIpAddress("example.com")).toBeUndefined();
  });
});
