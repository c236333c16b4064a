import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadOrCreateHostKey } from "./host-key.js";

describe("host key", () => {
  it("creates an ed25519 key once, mode 0600, that ssh-keygen reads, and loads it again", async () => {
    const dir = mkdtempSync(join(tmpdir(), "syncline-hostkey-"));
    const path = join(dir, "sub", "host_key");
    const first = await loadOrCreateHostKey(path);
    expect(first.publicKey).toMatch(/^ssh-ed25519 AAAA/);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const derived = execFileSync("ssh-keygen", ["-y", "-f", path]).toString().trim();
    expect(derived.split(" ").slice(0, 2).join(" ")).toBe(first.publicKey);
    const text = readFileSync(path, "utf8");
    const second = await loadOrCreateHostKey(path);
    expect(second.publicKey).toBe(first.publicKey);
    expect(readFileSync(path, "utf8")).toBe(text);
  });
});
