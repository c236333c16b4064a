import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fingerprintOf } from "./fingerprint.js";
import { parsePublicKey } from "./public-key.js";
import { generateTestKey, type TestKeyKind } from "./testing/ssh-keygen.js";

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "syncline-fingerprint-"));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("fingerprintOf", () => {
  it.each<TestKeyKind>(["ed25519", "ecdsa-256", "ecdsa-384", "ecdsa-521", "rsa"])(
    "matches ssh-keygen -lf for a %s key",
    (kind) => {
      const key = generateTestKey(dir, kind);
      const printed = execFileSync("ssh-keygen", ["-lf", `${key.privatePath}.pub`], {
        encoding: "utf8",
      });
      const expected = printed.split(" ")[1];
      const parsed = parsePublicKey(key.publicLine, (reason) => new Error(reason));
      expect(fingerprintOf(parsed)).toBe(expected);
      expect(fingerprintOf(parsed.blob)).toBe(expected);
      expect(expected).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    },
  );
});
