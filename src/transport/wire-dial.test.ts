import { describe, expect, it } from "vitest";
import { createError } from "../protocol/errors.js";
import { withProxyHint } from "./wire-dial.js";

describe("withProxyHint", () => {
  const failed = createError("ERR_AUTH_SIGNATURE", "sshsig: ssh-ed25519 signature does not verify");

  it("names the likely cause of a host signature failing over TLS: a proxy ending TLS", () => {
    const hinted = withProxyHint(failed, new Uint8Array(32)) as Error & { code: string };
    expect(hinted.code).toBe("ERR_AUTH_SIGNATURE");
    expect(hinted.message).toContain("does not verify");
    expect(hinted.message).toContain("proxy");
  });

  it("leaves the error as it is without TLS, and any other error", () => {
    expect(withProxyHint(failed, new Uint8Array(0))).toBe(failed);
    const other = createError("ERR_AUTH_HOST_KEY", "mismatch");
    expect(withProxyHint(other, new Uint8Array(32))).toBe(other);
  });
});
