import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseExpiryTime, tokenizeKeyOptions } from "./authorized-key-options.js";
import { loadAuthorizedKeys, parseAuthorizedKeys } from "./authorized-keys.js";
import { generateTestKey, type TestKey } from "./testing/ssh-keygen.js";

let dir: string;
let ed: TestKey;
let ecdsa: TestKey;
let rsa: TestKey;
const lenient = { source: "/etc/keys", strict: false };

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "syncline-authkeys-"));
  ed = generateTestKey(dir, "ed25519");
  ecdsa = generateTestKey(dir, "ecdsa-384");
  rsa = generateTestKey(dir, "rsa");
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("parseAuthorizedKeys", () => {
  it("reads plain key lines of every type, skipping comments and blanks", () => {
    const text = `# team keys\n\n   \n${ed.publicLine}\r\n  ${ecdsa.publicLine}\n${rsa.publicLine}\n`;
    const { entries, warnings } = parseAuthorizedKeys(text);
    expect(warnings).toEqual([]);
    expect(entries.map((entry) => [entry.key.type, entry.line, entry.comment])).toEqual([
      ["ssh-ed25519", 4, "test@ed25519"],
      ["ecdsa-sha2-nistp384", 5, "test@ecdsa-384"],
      ["ssh-rsa", 6, "test@rsa"],
    ]);
    expect(entries[0]?.fingerprint).toMatch(/^SHA256:/);
    expect(entries[0]?.options).toEqual({ restrict: false, raw: [] });
  });

  it("parses an options prefix with quotes, escaped quotes and a spaced comment", () => {
    const line = `no-pty,from="10.0.0.*,!10.0.0.5",command="echo \\"hi, there\\"" ${ed.publicLine} laptop key`;
    const [entry] = parseAuthorizedKeys(line).entries;
    expect(entry?.options.from).toEqual(["10.0.0.*", "!10.0.0.5"]);
    expect(entry?.options.command).toBe('echo "hi, there"');
    expect(entry?.options.raw.map((option) => option.name)).toEqual(["no-pty", "from", "command"]);
    expect(entry?.comment).toBe("test@ed25519 laptop key");
    expect(entry?.key.type).toBe("ssh-ed25519");
  });

  it("reads restrict, case-insensitive names, repeated options and expiry-time", () => {
    const line = `Restrict,permitopen="a:1",permitopen="b:2",expiry-time="20300101Z" ${rsa.publicLine}`;
    const [entry] = parseAuthorizedKeys(line).entries;
    expect(entry?.options.restrict).toBe(true);
    expect(entry?.options.raw.filter((option) => option.name === "permitopen")).toHaveLength(2);
    expect(entry?.options.expiresAt).toBe(Date.UTC(2030, 0, 1));
  });

  it("gives a key the user of its syncline-user option; lines without one belong to the default user", () => {
    const text = `syncline-user="alice",no-pty ${ed.publicLine}\n${ecdsa.publicLine}\n`;
    const { entries, warnings } = parseAuthorizedKeys(text);
    expect(warnings).toEqual([]);
    expect(entries.map((entry) => entry.user)).toEqual(["alice", undefined]);
  });

  it("skips a line whose syncline-user is not a user name, or names two users", () => {
    const text = [
      `syncline-user="../etc" ${ed.publicLine}`,
      `syncline-user="a",syncline-user="b" ${ecdsa.publicLine}`,
      `syncline-user="b",syncline-user="b" ${rsa.publicLine}`,
    ].join("\n");
    const { entries, warnings } = parseAuthorizedKeys(text, lenient);
    expect(entries.map((entry) => [entry.line, entry.user])).toEqual([[3, "b"]]);
    expect(warnings.map((warning) => warning.message)).toEqual([
      expect.stringMatching(/line 1: option "syncline-user" value "\.\.\/etc" is not a user name/),
      expect.stringMatching(/line 2: option "syncline-user" names two users/),
    ]);
  });

  it("strict mode throws ERR_AUTHORIZED_KEYS naming the source and line", () => {
    const text = `${ed.publicLine}\nno-pty ssh-ed25519 !!notbase64\n`;
    expect(() => parseAuthorizedKeys(text, { source: "/home/a/.ssh/authorized_keys" })).toThrow(
      expect.objectContaining({
        code: "ERR_AUTHORIZED_KEYS",
        message: expect.stringMatching(
          /^authorized_keys \/home\/a\/\.ssh\/authorized_keys line 2: /,
        ),
      }),
    );
  });

  it("lenient mode skips each malformed line with a warning and keeps the rest", () => {
    const bad = [
      `no-pty,from="10.0.0.1 ${ed.publicLine}`, // unterminated quote
      `bogus-option ${ed.publicLine}`,
      `cert-authority ${ed.publicLine}`,
      `from="10.0.0.1/8" ${ed.publicLine}`, // host bits set
      `from="a",from="b" ${ed.publicLine}`,
      `expiry-time="20240230" ${ed.publicLine}`,
      `no-pty="x" ${ed.publicLine}`,
      "ssh-dss AAAAB3NzaC1kc3MAAACBAP==",
      `ssh-rsa ${ed.publicLine.split(" ")[1]}`, // type does not match the blob
      "ssh-ed25519",
      "no-pty,",
    ];
    const text = [ed.publicLine, ...bad, ecdsa.publicLine].join("\n");
    const { entries, warnings } = parseAuthorizedKeys(text, lenient);
    expect(entries.map((entry) => entry.line)).toEqual([1, bad.length + 2]);
    expect(warnings).toHaveLength(bad.length);
    for (const [i, warning] of warnings.entries()) {
      expect(warning.code).toBe("ERR_AUTHORIZED_KEYS");
      expect(warning.message).toContain(`/etc/keys line ${i + 2}: `);
    }
  });
});

describe("tokenizeKeyOptions", () => {
  it("keeps backslashes that do not escape a quote, and commas inside quotes", () => {
    const { options, rest } = tokenizeKeyOptions('command="a\\b,c\\"d",no-pty\tssh-ed25519 AAAA');
    expect(options).toEqual([{ name: "command", value: 'a\\b,c"d' }, { name: "no-pty" }]);
    expect(rest).toBe("ssh-ed25519 AAAA");
  });

  it("refuses unquoted values", () => {
    expect(() => tokenizeKeyOptions("from=10.0.0.1 ssh-ed25519 AAAA")).toThrow(/double quotes/);
  });
});

describe("parseExpiryTime", () => {
  it("reads the sshd forms", () => {
    expect(parseExpiryTime("20300102Z")).toBe(Date.UTC(2030, 0, 2));
    expect(parseExpiryTime("203001021530Z")).toBe(Date.UTC(2030, 0, 2, 15, 30));
    expect(parseExpiryTime("20300102153045Z")).toBe(Date.UTC(2030, 0, 2, 15, 30, 45));
    expect(parseExpiryTime("20300102")).toBe(new Date(2030, 0, 2).getTime());
    expect(parseExpiryTime("2030010")).toBeUndefined();
    expect(parseExpiryTime("20301301")).toBeUndefined();
  });
});

describe("loadAuthorizedKeys", () => {
  it("reads a file and names it in line errors", async () => {
    const path = join(dir, "authorized_keys");
    writeFileSync(path, `${ed.publicLine}\ngarbage\n`);
    const { entries, warnings } = await loadAuthorizedKeys(path, { strict: false });
    expect(entries).toHaveLength(1);
    expect(warnings[0]?.message).toContain(`${path} line 2`);
  });

  it("fails with ERR_AUTHORIZED_KEYS naming an unreadable path", async () => {
    const path = join(dir, "missing");
    await expect(loadAuthorizedKeys(path)).rejects.toMatchObject({
      code: "ERR_AUTHORIZED_KEYS",
      message: expect.stringContaining(path),
    });
  });
});
