import { describe, expect, it } from "vitest";
import { createError } from "../../protocol/errors.js";
import { connectError, dialUrlOf, isRetryable } from "./sync-client-connect.js";

const failure = (code: string, extra: object = {}) =>
  Object.assign(new Error(`boom ${code}`), { code, ...extra });

describe("sync client connection errors", () => {
  it("say what happened in words and name the url", () => {
    const url = "ws://example.test:3030";
    expect(connectError(url, failure("ECONNREFUSED")).message).toBe(
      `sync: cannot connect to ${url}: connection refused (is a server listening there?)`,
    );
    expect(connectError(url, failure("ENOTFOUND", { hostname: "example.test" })).message).toContain(
      "name not resolved: example.test",
    );
    expect(connectError(url, failure("DEPTH_ZERO_SELF_SIGNED_CERT")).message).toContain(
      "TLS failure: boom DEPTH_ZERO_SELF_SIGNED_CERT",
    );
    expect(connectError(url, failure("ECONNREFUSED")).code).toBe("ERR_CONNECT");
  });

  it("retry the network, not refusals, bad names, TLS trust or protocol errors", () => {
    const url = "ws://x";
    expect(isRetryable(connectError(url, failure("ECONNREFUSED")))).toBe(true);
    expect(isRetryable(createError("ERR_CONNECTION_CLOSED", "closed"))).toBe(true);
    expect(isRetryable(createError("ERR_CONNECT", "http", { status: 503 }))).toBe(true);
    expect(isRetryable(createError("ERR_CONNECT", "http", { status: 404 }))).toBe(false);
    expect(isRetryable(connectError(url, failure("ENOTFOUND")))).toBe(false);
    expect(isRetryable(connectError(url, failure("CERT_HAS_EXPIRED")))).toBe(false);
    expect(isRetryable(createError("ERR_UNAUTHORIZED", "401"))).toBe(false);
    expect(isRetryable(createError("ERR_AUTOMERGE_MESSAGE", "bad"))).toBe(false);
  });

  it("puts the token in the query, keeping the rest of the url", () => {
    expect(dialUrlOf("wss://h/sync?x=1", "a b&c")).toBe("wss://h/sync?x=1&token=a+b%26c");
    expect(dialUrlOf("ws://h:1", undefined)).toBe("ws://h:1");
  });
});
