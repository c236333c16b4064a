// The server's host key for mutual authentication: read from a file, or — like sshd on first
// boot — generated once as an ed25519 key in OpenSSH format and kept (mode 0600, in a folder made
// 0700 when it has to be made).

import { generateKeyPairSync, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { loadPrivateKey } from "./private-key-file.js";
import type { Signer } from "./signer.js";
import { sshString, sshU32 } from "./ssh-string.js";

/** Loads the host key at `path`, creating an ed25519 key there first if the file is missing. */
export async function loadOrCreateHostKey(path: string): Promise<Signer> {
  if (!existsSync(path)) {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    // "wx": if another process created it meanwhile, its key wins and we load that one.
    await writeFile(path, generateOpenSshEd25519("syncline host key"), {
      mode: 0o600,
      flag: "wx",
    }).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== "EEXIST") throw error;
    });
  }
  return loadPrivateKey(path, { interactive: false });
}

/**
 * A new unencrypted ed25519 private key in the `openssh-key-v1` format ssh-keygen writes
 * (PROTOCOL.key): node generates the key; only the container is assembled here.
 */
export function generateOpenSshEd25519(comment: string): string {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const pub = Buffer.from(publicKey.export({ format: "jwk" }).x as string, "base64url");
  const seed = Buffer.from(privateKey.export({ format: "jwk" }).d as string, "base64url");
  const publicBlob = sshString("ssh-ed25519");
  const publicKeyBlob = Buffer.concat([publicBlob, sshString(pub)]);
  const check = randomBytes(4);
  let section = Buffer.concat([
    check,
    check,
    sshString("ssh-ed25519"),
    sshString(pub),
    sshString(Buffer.concat([seed, pub])),
    sshString(comment),
  ]);
  const padding = (8 - (section.length % 8)) % 8;
  section = Buffer.concat([section, Buffer.from(Array.from({ length: padding }, (_, i) => i + 1))]);
  const body = Buffer.concat([
    Buffer.from("openssh-key-v1\0"),
    sshString("none"),
    sshString("none"),
    sshString(""),
    sshU32(1),
    sshString(publicKeyBlob),
    sshString(section),
  ]);
  const lines = body.toString("base64").match(/.{1,70}/g) ?? [];
  return `-----BEGIN OPENSSH PRIVATE KEY-----\n${lines.join("\n")}\n-----END OPENSSH PRIVATE KEY-----\n`;
}
