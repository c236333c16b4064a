import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatPublicKey, parsePublicKey, samePublicKey } from "./public-key.js";
import { sshStrings } from "./ssh-string.js";
import { generateTestKey, type TestKey } from "./testing/ssh-keygen.js";

let dir: string;
let ed: TestKey;

function problemOf(input: string | Uint8Array): string | undefined {
  try {
    parsePublicKey(input, (_reason, problem) => new Error(problem));
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "syncline-pubkey-"));
  ed = generateTestKey(dir, "ed25519");
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("parsePublicKey", () => {
  it("parses a .pub line and its blob to the same key", () => {
    const fromLine = parsePublicKey(ed.publicLine, (reason) => new Error(reason));
    const fromBlob = parsePublicKey(fromLine.blob, (reason) => new Error(reason));
    expect(samePublicKey(fromLine, fromBlob)).toBe(true);
    expect(formatPublicKey(fromLine, "me")).toBe(
      `${ed.publicLine.split(" ").slice(0, 2).join(" ")} me`,
    );
  });

  it("tells unsupported key types from malformed keys", () => {
    const data = ed.publicLine.split(" ")[1] as string;
    expect(problemOf(`ssh-dss ${data}`)).toBe("unsupported");
    expect(problemOf(sshStrings("ssh-dss", "x"))).toBe("unsupported");
    expect(problemOf(`ssh-rsa ${data}`)).toBe("malformed");
    expect(problemOf("ssh-ed25519 not*base64")).toBe("malformed");
    expect(problemOf(sshStrings("ssh-ed25519", "short"))).toBe("malformed");
    const trailing = Buffer.concat([Buffer.from(data, "base64"), Buffer.from([0])]);
    expect(problemOf(trailing)).toBe("malformed");
  });
});
