import { describe, expect, it } from "vitest";
import { connectError, refusalError } from "./connect-errors.js";

const failure = (code: string, extra: object = {}) =>
  Object.assign(new Error(`boom ${code}`), { code, ...extra });

describe("connection errors", () => {
  it("say what happened in words and name the server", () => {
    const where = "ws://example.test:3030";
    expect(connectError("sync", where, failure("ECONNREFUSED")).message).toBe(
      `sync: cannot connect to ${where}: connection refused (is a server listening there?)`,
    );
    expect(
      connectError("sync", where, failure("ENOTFOUND", { hostname: "example.test" })).message,
    ).toContain("name not resolved: example.test");
    expect(connectError("wire", where, failure("DEPTH_ZERO_SELF_SIGNED_CERT")).message).toContain(
      "TLS failure: boom DEPTH_ZERO_SELF_SIGNED_CERT (trust the server's certificate with --ca FILE)",
    );
    expect(connectError("sync", where, failure("ECONNREFUSED")).code).toBe("ERR_CONNECT");
  });

  it("retry the network, not bad names, TLS trust or a plain-text server behind wss://", () => {
    expect(connectError("x", "y", failure("ECONNREFUSED")).retryable).toBe(true);
    expect(connectError("x", "y", failure("ECONNRESET")).retryable).toBe(true);
    expect(connectError("x", "y", failure("ENOTFOUND")).retryable).toBe(false);
    expect(connectError("x", "y", failure("CERT_HAS_EXPIRED")).retryable).toBe(false);
    const mismatch = connectError("x", "wss://h:1", failure("ERR_SSL_WRONG_VERSION_NUMBER"));
    expect(mismatch.retryable).toBe(false);
    expect(mismatch.message).toContain("the server does not speak TLS on that port: use ws://");
  });

  it("take a syncline server's own code and text from its refusal", () => {
    const body = JSON.stringify({
      error: {
        code: "ERR_TRANSPORT_DISABLED",
        message: "transport disabled: start the server with --authorized-keys FILE",
      },
    });
    const error = refusalError("wire", "ws://h:1", 503, body);
    expect(error).toMatchObject({ code: "ERR_TRANSPORT_DISABLED", status: 503, retryable: false });
    expect(error.message).toBe(
      "wire: ws://h:1 refused (HTTP 503): transport disabled: start the server with --authorized-keys FILE",
    );
    const shutting = refusalError(
      "wire",
      "ws://h:1",
      503,
      '{"error":{"code":"ERR_SHUTTING_DOWN","message":"bye"}}',
    );
    expect(shutting.retryable).toBe(true);
  });

  it("quote another server's refusal, retrying only a 5xx", () => {
    const proxy = refusalError("sync", "wss://h", 502, "<html>Bad Gateway</html>\n");
    expect(proxy).toMatchObject({ code: "ERR_UPGRADE_REFUSED", retryable: true, status: 502 });
    expect(proxy.message).toBe("sync: wss://h refused (HTTP 502): <html>Bad Gateway</html>");
    expect(refusalError("sync", "wss://h", 404, "").retryable).toBe(false);
    expect(refusalError("sync", "wss://h", 401, "no").code).toBe("ERR_UNAUTHORIZED");
    const unknown = refusalError(
      "sync",
      "wss://h",
      400,
      '{"error":{"code":"ERR_NOPE","message":"m"}}',
    );
    expect(unknown.code).toBe("ERR_UPGRADE_REFUSED");
  });
});
