// Signing through ssh-agent (SSH_AUTH_SOCK), so encrypted keys never need a passphrase here: every
// key of a type we accept is offered, in the agent's order, as ssh does. RSA signatures are
// requested as rsa-sha2-512 and checked before use: ssh2 strips the algorithm name from the
// agent's reply, and an old agent could silently answer with SHA-1.

import ssh2, { type OpenSSHAgent, type ParsedKey } from "ssh2";
import { createError, describeError } from "../../protocol/errors.js";
import { fingerprintOf } from "./fingerprint.js";
import { formatPublicKey, isSupportedKeyType, type PublicKey, publicKeyOf } from "./public-key.js";
import type { Signer } from "./signer.js";
import { encodeSshSignature, signatureAlgorithmFor, verifySshSignature } from "./ssh-signature.js";

function agentError(socketPath: string, reason: string, cause?: unknown) {
  return createError("ERR_AUTH_AGENT", `ssh-agent ${socketPath}: ${reason}`, { cause });
}

/** Lists the agent's keys; ERR_AUTH_AGENT when it cannot be reached. */
function listIdentities(agent: OpenSSHAgent, socketPath: string) {
  return new Promise<ParsedKey[]>((resolve, reject) => {
    agent.getIdentities((error, keys) => {
      if (error) {
        reject(agentError(socketPath, `cannot list keys: ${describeError(error)}`, error));
        return;
      }
      // ssh2 parses every listed key (dropping those it cannot); its type is looser than that.
      resolve(
        (keys ?? []).filter(
          (key): key is ParsedKey => typeof key === "object" && "getPublicSSH" in key,
        ),
      );
    });
  });
}

function agentSigner(agent: OpenSSHAgent, socketPath: string, key: PublicKey): Signer {
  const algorithm = signatureAlgorithmFor(key.type);
  // The hash option only matters for RSA (the agent protocol's SSH_AGENT_RSA_SHA2_512 flag).
  const hash = key.type === "ssh-rsa" ? ("sha512" as const) : undefined;
  return {
    publicKey: formatPublicKey(key),
    algorithm,
    sign(data) {
      return new Promise((resolve, reject) => {
        agent.sign(key.blob, Buffer.from(data), { hash }, (error, signature) => {
          if (error || !signature) {
            const reason =
              `refused to sign with ${key.type} key ${fingerprintOf(key)} (${describeError(error)}): ` +
              "a key added with ssh-add -c whose use was not confirmed, or one removed from the agent";
            reject(agentError(socketPath, reason, error));
            return;
          }
          const blob = encodeSshSignature(algorithm, signature);
          try {
            verifySshSignature(key, data, blob, `ssh-agent ${socketPath}`);
          } catch (cause) {
            const reason = `returned a signature that is not a valid ${algorithm} signature`;
            reject(agentError(socketPath, reason, cause));
            return;
          }
          resolve(blob);
        });
      });
    },
  };
}

/** One key the agent holds, ready to sign. */
export interface AgentKey {
  readonly signer: Signer;
  readonly key: PublicKey;
  /** The comment the agent lists with the key (`ssh-add` takes it from the key file). */
  readonly comment: string;
}

/** The agent's keys, and why some were left out. */
export interface AgentKeys {
  /** The keys of a type we accept, in the agent's order (the order they were added). */
  readonly keys: readonly AgentKey[];
  /** One note per key left out: a type we do not accept, an RSA key out of bounds. */
  readonly skipped: readonly string[];
}

/**
 * Lists the agent's usable keys, each with a signer. ERR_AUTH_AGENT when the agent cannot be
 * reached; a key the agent then refuses to sign with (a confirmation denied, `ssh-add -c`; the key
 * removed meanwhile) fails that signature with ERR_AUTH_AGENT too.
 */
export async function listAgentKeys(socketPath: string): Promise<AgentKeys> {
  const agent = new ssh2.OpenSSHAgent(socketPath);
  const listed = await listIdentities(agent, socketPath);
  const keys: AgentKey[] = [];
  const skipped: string[] = [];
  for (const parsed of listed) {
    const name = parsed.comment ? `${parsed.type} key "${parsed.comment}"` : `${parsed.type} key`;
    if (!isSupportedKeyType(parsed.type)) {
      skipped.push(`${name}: type not supported`);
      continue;
    }
    try {
      const key = publicKeyOf(parsed, (reason) => new Error(reason));
      keys.push({ signer: agentSigner(agent, socketPath, key), key, comment: parsed.comment });
    } catch (error) {
      skipped.push(`${name}: ${describeError(error)}`);
    }
  }
  return { keys, skipped };
}
