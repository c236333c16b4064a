// Which keys the client offers, in ssh's order: with `--identity KEY`, that key only — through
// ssh-agent when the agent holds it (so an encrypted key needs no passphrase, and KEY may be the
// `.pub` file, as with `ssh -i`), else from the file; without it, every usable ssh-agent key in
// the agent's order, else the first of ~/.ssh/id_ed25519, id_ecdsa, id_rsa that exists.

import { stat } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { createError, describeError, isSynclineError } from "../../protocol/errors.js";
import { type AgentKeys, listAgentKeys } from "./agent-signer.js";
import { fingerprintOf } from "./fingerprint.js";
import { loadPrivateKey, type PassphraseOptions } from "./private-key-file.js";
import { parsePublicKey } from "./public-key.js";
import { readPublicKeyOfFile } from "./public-key-file.js";
import type { Signer } from "./signer.js";

/** The default key files under `~/.ssh`, in the order tried (ssh's, minus DSA and FIDO keys). */
export const defaultIdentityFiles = ["id_ed25519", "id_ecdsa", "id_rsa"] as const;

/** Where to look for the client's key. */
export interface ResolveIdentityOptions extends PassphraseOptions {
  /**
   * `--identity KEY`: a private key file, or a public one (`.pub`) whose private key ssh-agent
   * holds; when given, no other key is offered.
   */
  readonly identityFile?: string;
  /** Environment for `SSH_AUTH_SOCK`. Default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** The home directory holding `.ssh/`. Default `os.homedir()`. */
  readonly homeDir?: string;
}

/** A signer the client may offer, with where it came from. */
export interface Identity extends Signer {
  /** The file path, or `ssh-agent <socket>`. */
  readonly source: string;
  /** The key's `SHA256:…` fingerprint (what a server admin sees in logs). */
  readonly fingerprint: string;
  /** The key's own comment (`user@host`, from the agent or the key file); empty when none. */
  readonly comment: string;
}

function identityOf(signer: Signer, source: string, comment: string): Identity {
  const key = parsePublicKey(signer.publicKey, (reason) =>
    createError("ERR_AUTH_KEY_FILE", `identity ${source}: ${reason}`),
  );
  return {
    publicKey: signer.publicKey,
    algorithm: signer.algorithm,
    sign: (data) => signer.sign(data),
    source,
    fingerprint: fingerprintOf(key),
    comment,
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

/** The agent's keys, or a note saying why there are none (an unreachable agent is not fatal). */
async function tryAgent(socketPath: string): Promise<AgentKeys | string> {
  try {
    return await listAgentKeys(socketPath);
  } catch (error) {
    if (!isSynclineError(error, "ERR_AUTH_AGENT")) throw error;
    return error.message;
  }
}

/** The identities of the agent at `socketPath`, or a note saying why there are none. */
async function agentIdentities(socketPath: string): Promise<Identity[] | string> {
  const agent = await tryAgent(socketPath);
  if (typeof agent === "string") return agent;
  const source = `ssh-agent ${socketPath}`;
  const identities = agent.keys.map((held) => identityOf(held.signer, source, held.comment));
  if (identities.length > 0) return identities;
  const skipped = agent.skipped.length > 0 ? ` (left out: ${agent.skipped.join("; ")})` : "";
  return `ssh-agent ${socketPath} holds no usable key${skipped}`;
}

/** The key of `--identity path`: the agent's when it holds it, else the file's. */
async function explicitIdentity(path: string, options: ResolveIdentityOptions): Promise<Identity> {
  // A file whose public half cannot be read without its passphrase (an encrypted PEM key with no
  // .pub beside it) cannot be matched against the agent: load it, which says what is wrong.
  const own = await readPublicKeyOfFile(path, "identity").catch(() => undefined);
  if (own === undefined) return identityOf(await loadPrivateKey(path, options), path, "");
  const socketPath = (options.env ?? process.env).SSH_AUTH_SOCK;
  const agent = socketPath ? await agentIdentities(socketPath) : "SSH_AUTH_SOCK is not set";
  if (typeof agent !== "string") {
    const wanted = parsePublicKey(own.publicKey, (reason) =>
      createError("ERR_AUTH_KEY_FILE", `identity ${path}: ${reason}`),
    );
    const held = agent.find((identity) => identity.fingerprint === fingerprintOf(wanted));
    if (held) return { ...held, comment: held.comment || own.comment };
  }
  if (own.isPublic) {
    const why = typeof agent === "string" ? agent : `ssh-agent ${socketPath} does not hold it`;
    throw createError(
      "ERR_AUTH_KEY_FILE",
      `identity ${path}: is a public key and ${why}; load its private key with ssh-add, or give the private key file`,
    );
  }
  return identityOf(await loadPrivateKey(path, options), path, own.comment);
}

/**
 * Resolves the keys the client offers, in order, once: keep them for every (re)connection, since
 * loading an encrypted key asks for its passphrase and is slow. A server that refuses one as not
 * authorized is offered the next (wire-dial.ts). Errors name the file; with no key anywhere,
 * ERR_AUTH_NO_IDENTITY says where it looked.
 */
export async function resolveIdentities(
  options: ResolveIdentityOptions = {},
): Promise<readonly [Identity, ...Identity[]]> {
  if (options.identityFile !== undefined) {
    return [await explicitIdentity(options.identityFile, options)];
  }
  const notes: string[] = [];
  const socketPath = (options.env ?? process.env).SSH_AUTH_SOCK;
  if (socketPath) {
    const agent = await agentIdentities(socketPath);
    const [first, ...rest] = typeof agent === "string" ? [] : agent;
    if (first) return [first, ...rest];
    notes.push(agent as string);
  } else {
    notes.push("SSH_AUTH_SOCK is not set");
  }
  const sshDir = join(options.homeDir ?? homedir(), ".ssh");
  const candidates = defaultIdentityFiles.map((name) => join(sshDir, name));
  for (const path of candidates) {
    if (!(await exists(path))) continue;
    const comment = await readPublicKeyOfFile(path, "identity").then(
      (own) => own.comment,
      () => "",
    );
    return [identityOf(await loadPrivateKey(path, options), path, comment)];
  }
  notes.push(`none of ${candidates.join(", ")} exists`);
  throw createError(
    "ERR_AUTH_NO_IDENTITY",
    `identity: no SSH key to sign with: no --identity given, ${notes.join(", ")}; ` +
      `create one with "ssh-keygen -t ed25519" or pass --identity FILE`,
  );
}

/** The first key `resolveIdentities` would offer. */
export async function resolveIdentity(options: ResolveIdentityOptions = {}): Promise<Identity> {
  const [first] = await resolveIdentities(options);
  return first;
}
