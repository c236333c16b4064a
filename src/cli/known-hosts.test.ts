import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { fingerprintOf } from "../transport/auth/fingerprint.js";
import { generateOpenSshEd25519 } from "../transport/auth/host-key.js";
import { loadPrivateKey } from "../transport/auth/private-key-file.js";
import { parsePublicKey } from "../transport/auth/public-key.js";
import { parseServerAddress } from "../transport/server-address.js";
import type { ServerHostKey } from "../transport/wire-dial.js";
import { KnownHosts, knownHostName, knownHostsPath } from "./known-hosts.js";

const dir = mkdtempSync(join(tmpdir(), "syncline-known-hosts-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let made = 0;

/** A fresh host key as a server presents it at `server`. */
async function hostKeyAt(server: string): Promise<ServerHostKey> {
  const path = join(dir, `host-${++made}`);
  writeFileSync(path, generateOpenSshEd25519("test host"));
  const { publicKey } = await loadPrivateKey(path);
  const fingerprint = fingerprintOf(parsePublicKey(publicKey, (reason) => new Error(reason)));
  return { address: parseServerAddress(server), publicKey, fingerprint };
}

describe("knownHostName", () => {
  it("is host:port with the scheme's default port, or the socket path", () => {
    const name = (text: string) => knownHostName(parseServerAddress(text));
    expect(name("ws://Example.COM:3030")).toBe("example.com:3030");
    expect(name("ws://example.com")).toBe("example.com:80");
    expect(name("wss://example.com")).toBe("example.com:443");
    expect(name("https://example.com:3030/base")).toBe("example.com:3030");
    expect(name("ws://[::1]:3030")).toBe("[::1]:3030");
    expect(name("unix:/run/s.sock")).toBe("unix:/run/s.sock");
  });
});

describe("KnownHosts", () => {
  it("records a key on first contact, knows it after, and refuses another key there", async () => {
    const path = join(dir, "config", "known_hosts");
    const knownHosts = new KnownHosts(path);
    const first = await hostKeyAt("ws://10.1.2.3:3030");
    expect(await knownHosts.check(first)).toBe("added");
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, "config")).mode & 0o777).toBe(0o700);
    expect(await knownHosts.check(first)).toBe("known");
    // The same server over wss:// on that port is the same record.
    expect(
      await knownHosts.check({ ...first, address: parseServerAddress("wss://10.1.2.3:3030") }),
    ).toBe("known");
    const impostor = await hostKeyAt("ws://10.1.2.3:3030");
    await expect(knownHosts.check(impostor)).rejects.toMatchObject({
      code: "ERR_AUTH_HOST_KEY",
      message: expect.stringContaining(`remove line 1 of ${path}`),
    });
    await expect(knownHosts.check(impostor)).rejects.toMatchObject({
      message: expect.stringMatching(
        new RegExp(
          `presented ${literal(impostor.fingerprint)}, but line 1 .* records ${literal(first.fingerprint)}`,
        ),
      ),
    });
    expect(readFileSync(path, "utf8")).toBe(`10.1.2.3:3030 ${first.publicKey}\n`);
  });

  it("keeps what else the file holds, and accepts any of several keys recorded for a host", async () => {
    const path = join(dir, "kept_hosts");
    const old = await hostKeyAt("ws://h:1");
    const rotated = await hostKeyAt("ws://h:1");
    const text = `# my servers\nh:1 ${old.publicKey}\n\nnot a record\nh:1 ${rotated.publicKey}`;
    writeFileSync(path, text);
    const knownHosts = new KnownHosts(path);
    expect(await knownHosts.check(rotated)).toBe("known");
    const other = await hostKeyAt("unix:/run/s.sock");
    expect(await knownHosts.check(other)).toBe("added");
    expect(readFileSync(path, "utf8")).toBe(`${text}\nunix:/run/s.sock ${other.publicKey}\n`);
  });

  it("keeps every record when commands meet servers at the same time", async () => {
    const path = join(dir, "busy_hosts");
    const hosts = await Promise.all(
      Array.from({ length: 8 }, (_, index) => hostKeyAt(`ws://busy:${4000 + index}`)),
    );
    const results = await Promise.all(hosts.map((host) => new KnownHosts(path).check(host)));
    expect(results).toEqual(hosts.map(() => "added"));
    const lines = readFileSync(path, "utf8").trim().split("\n");
    const expected = hosts.map((host, index) => `busy:${4000 + index} ${host.publicKey}`);
    expect(lines.sort()).toEqual(expected.sort());
  });

  it("lives in $XDG_CONFIG_HOME/syncline, else ~/.config/syncline", () => {
    expect(knownHostsPath({ XDG_CONFIG_HOME: "/x" })).toBe("/x/syncline/known_hosts");
    expect(knownHostsPath({ HOME: "/home/u" })).toBe("/home/u/.config/syncline/known_hosts");
  });
});

function literal(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}
