// Test keys made by the real OpenSSH `ssh-keygen`, so tests check interoperability rather than our
// code against itself. Needs openssh-client (`.ci/run` installs it).

import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** The key kinds tests generate (RSA at 2048 bits: 3072 is slow to generate). */
export type TestKeyKind = "ed25519" | "ecdsa-256" | "ecdsa-384" | "ecdsa-521" | "rsa";

/** A key pair on disk. */
export interface TestKey {
  /** The kind asked for. */
  readonly kind: TestKeyKind;
  /** The private key file (OpenSSH format). */
  readonly privatePath: string;
  /** Its `.pub` line without the trailing newline: `type base64 comment`. */
  readonly publicLine: string;
}

const keygenArgs: Record<TestKeyKind, string[]> = {
  ed25519: ["-t", "ed25519"],
  "ecdsa-256": ["-t", "ecdsa", "-b", "256"],
  "ecdsa-384": ["-t", "ecdsa", "-b", "384"],
  "ecdsa-521": ["-t", "ecdsa", "-b", "521"],
  rsa: ["-t", "rsa", "-b", "2048"],
};

/** Generates a key with ssh-keygen in `dir`; `passphrase` encrypts it (default: none). */
export function generateTestKey(
  dir: string,
  kind: TestKeyKind,
  options: { name?: string; passphrase?: string } = {},
): TestKey {
  const privatePath = join(dir, options.name ?? `id_${kind}`);
  execFileSync(
    "ssh-keygen",
    [
      ...keygenArgs[kind],
      "-q",
      "-N",
      options.passphrase ?? "",
      "-C",
      `test@${kind}`,
      "-f",
      privatePath,
    ],
    { stdio: "pipe" },
  );
  const publicLine = readFileSync(`${privatePath}.pub`, "utf8").trim();
  return { kind, privatePath, publicLine };
}

/** Runs `ssh-keygen -Y verify` on an armored signature; resolves to its exit status and output. */
export function sshKeygenVerify(options: {
  dir: string;
  publicLine: string;
  namespace: string;
  message: Uint8Array;
  armoredSignature: string;
}): { status: number | null; output: string } {
  const allowed = join(options.dir, "allowed_signers");
  const sigPath = join(options.dir, "message.sig");
  writeFileSync(allowed, `signer@test namespaces="${options.namespace}" ${options.publicLine}\n`);
  writeFileSync(sigPath, options.armoredSignature);
  const result = spawnSync(
    "ssh-keygen",
    ["-Y", "verify", "-f", allowed, "-I", "signer@test", "-n", options.namespace, "-s", sigPath],
    { input: options.message, encoding: "utf8" },
  );
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/** Signs `message` with `ssh-keygen -Y sign`; returns the armored signature text. */
export function sshKeygenSign(options: {
  dir: string;
  privatePath: string;
  namespace: string;
  message: Uint8Array;
}): string {
  const messagePath = join(options.dir, "to-sign");
  writeFileSync(messagePath, options.message);
  // ssh-keygen asks before overwriting an old signature; there is no terminal to answer it.
  rmSync(`${messagePath}.sig`, { force: true });
  execFileSync(
    "ssh-keygen",
    ["-Y", "sign", "-f", options.privatePath, "-n", options.namespace, messagePath],
    {
      stdio: "pipe",
    },
  );
  return readFileSync(`${messagePath}.sig`, "utf8");
}
