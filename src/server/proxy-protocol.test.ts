import { describe, expect, it } from "vitest";
import { parseProxyHeader } from "./proxy-protocol.js";

const v2 = (command: number, family: number, body: number[]) =>
  Buffer.from([
    0x0d,
    0x0a,
    0x0d,
    0x0a,
    0x00,
    0x0d,
    0x0a,
    0x51,
    0x55,
    0x49,
    0x54,
    0x0a,
    0x20 | command,
    family,
    body.length >> 8,
    body.length & 0xff,
    ...body,
  ]);

describe("parseProxyHeader", () => {
  it("reads a v1 TCP4 and TCP6 line and the bytes it takes", () => {
    const line = "PROXY TCP4 203.0.113.7 10.0.0.1 51234 443\r\nGET / HTTP/1.1\r\n";
    expect(parseProxyHeader(Buffer.from(line))).toEqual({
      kind: "header",
      length: line.indexOf("GET"),
      source: "203.0.113.7",
    });
    const six = parseProxyHeader(Buffer.from("PROXY TCP6 2001:db8::1 ::1 1 2\r\n"));
    expect(six).toMatchObject({ kind: "header", source: "2001:db8::1" });
  });

  it("waits for more bytes, and refuses what is not a header", () => {
    expect(parseProxyHeader(Buffer.from("PRO")).kind).toBe("incomplete");
    expect(parseProxyHeader(Buffer.from("PROXY TCP4 1.2.3.4")).kind).toBe("incomplete");
    expect(parseProxyHeader(Buffer.from("GET / HTTP/1.1\r\n")).kind).toBe("invalid");
    expect(parseProxyHeader(Buffer.from("PROXY TCP4 1.2.3.999 1.2.3.4 1 2\r\n")).kind).toBe(
      "invalid",
    );
    expect(parseProxyHeader(Buffer.from(`PROXY ${"x".repeat(120)}`)).kind).toBe("invalid");
  });

  it("takes UNKNOWN and v2 LOCAL as the proxy speaking for itself", () => {
    expect(parseProxyHeader(Buffer.from("PROXY UNKNOWN\r\n"))).toMatchObject({
      source: undefined,
    });
    expect(parseProxyHeader(v2(0, 0, []))).toEqual({
      kind: "header",
      length: 16,
      source: undefined,
    });
  });

  it("reads v2 IPv4 and IPv6 sources", () => {
    const ipv4 = v2(1, 0x11, [198, 51, 100, 9, 10, 0, 0, 1, 0x1f, 0x90, 0x01, 0xbb]);
    expect(parseProxyHeader(Buffer.concat([ipv4, Buffer.from("GET")]))).toEqual({
      kind: "header",
      length: 28,
      source: "198.51.100.9",
    });
    const address = [0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 5];
    const ipv6 = v2(1, 0x21, [...address, ...new Array(16).fill(0), 0, 1, 0, 2]);
    expect(parseProxyHeader(ipv6)).toMatchObject({ source: "2001:db8:0:0:0:0:0:5" });
    expect(parseProxyHeader(ipv6.subarray(0, 20)).kind).toBe("incomplete");
  });
});
