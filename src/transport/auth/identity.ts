// Which key the client signs with, in ssh's order: an explicit `--identity FILE`, else the first
// usable ssh-agent key, else the first of ~/.ssh/id_ed25519, id_ecdsa, id_rsa that exists.

import { stat } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { createError, describeError, isSynclineError } from "../../protocol/errors.js";
import { findAgentSigner } from "./agent-signer.js";
import { fingerprintOf } from "./fingerprint.js";
import { loadPrivateKey, type PassphraseOptions } from "./private-key-file.js";
import { parsePublicKey } from "./public-key.js";
import type { Signer } from "./signer.js";

/** The default key files under `~/.ssh`, in the order tried (ssh's, minus DSA and FIDO keys). */
export const defaultIdentityFiles = ["id_ed25519", "id_ecdsa", "id_rsa"] as const;

/** Where to look for the client's key. */
export interface ResolveIdentityOptions extends PassphraseOptions {
  /** `--identity FILE`: a private key file; when given nothing else is tried. */
  readonly identityFile?: string;
  /** Environment for `SSH_AUTH_SOCK`. Default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** The home directory holding `.ssh/`. Default `os.homedir()`. */
  readonly homeDir?: string;
}

/** The signer the client will use, with where it came from. */
export interface Identity extends Signer {
  /** The file path, or `ssh-agent <socket>`. */
  readonly source: string;
  /** The key's `SHA256:…` fingerprint (what a server admin sees in logs). */
  readonly fingerprint: string;
}

function identityOf(signer: Signer, source: string): Identity {
  const key = parsePublicKey(signer.publicKey, (reason) =>
    createError("ERR_AUTH_KEY_FILE", `identity ${source}: ${reason}`),
  );
  return {
    publicKey: signer.publicKey,
    algorithm: signer.algorithm,
    sign: (data) => signer.sign(data),
    source,
    fingerprint: fingerprintOf(key),
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw createError(
      "ERR_AUTH_KEY_FILE",
      `identity ${path}: cannot read: ${describeError(error)}`,
      {
        cause: error,
      },
    );
  }
}

/** The agent's signer, or a note saying why there is none (an unreachable agent is not fatal). */
async function tryAgent(socketPath: string): Promise<Signer | string> {
  try {
    return (await findAgentSigner(socketPath)) ?? `ssh-agent ${socketPath} holds no usable key`;
  } catch (error) {
    if (!isSynclineError(error, "ERR_AUTH_AGENT")) throw error;
    return error.message;
  }
}

/**
 * Resolves the client's signing identity once; keep the result for every (re)connection, since
 * loading an encrypted key asks for its passphrase and is slow. Errors name the file; with no key
 * anywhere, ERR_AUTH_NO_IDENTITY says where it looked.
 */
export async function resolveIdentity(options: ResolveIdentityOptions = {}): Promise<Identity> {
  if (options.identityFile !== undefined) {
    return identityOf(await loadPrivateKey(options.identityFile, options), options.identityFile);
  }
  const notes: string[] = [];
  const socketPath = (options.env ?? process.env).SSH_AUTH_SOCK;
  if (socketPath) {
    const agent = await tryAgent(socketPath);
    if (typeof agent !== "string") return identityOf(agent, `ssh-agent ${socketPath}`);
    notes.push(agent);
  } else {
    notes.push("SSH_AUTH_SOCK is not set");
  }
  const sshDir = join(options.homeDir ?? homedir(), ".ssh");
  const candidates = defaultIdentityFiles.map((name) => join(sshDir, name));
  for (const path of candidates) {
    if (await exists(path)) return identityOf(await loadPrivateKey(path, options), path);
  }
  notes.push(`none of ${candidates.join(", ")} exists`);
  throw createError(
    "ERR_AUTH_NO_IDENTITY",
    `identity: no SSH key to sign with: no --identity given, ${notes.join(", ")}; ` +
      `create one with "ssh-keygen -t ed25519" or pass --identity FILE`,
  );
}
