// Signing through ssh-agent (SSH_AUTH_SOCK), so encrypted keys never need a passphrase here. RSA
// signatures are requested as rsa-sha2-512 and checked before use: ssh2 strips the algorithm
// name from the agent's reply, and an old agent could silently answer with SHA-1.

import ssh2, { type OpenSSHAgent, type ParsedKey } from "ssh2";
import { createError, describeError } from "../../protocol/errors.js";
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
            reject(
              agentError(socketPath, `${key.type} signing failed: ${describeError(error)}`, error),
            );
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

/**
 * A signer for the agent's first key of a supported type (agents list keys in the order they
 * were added), or undefined when it holds none. ERR_AUTH_AGENT when the agent cannot be reached;
 * later signing failures (the agent went away, the key was removed) are ERR_AUTH_AGENT too.
 */
export async function findAgentSigner(socketPath: string): Promise<Signer | undefined> {
  const agent = new ssh2.OpenSSHAgent(socketPath);
  const keys = await listIdentities(agent, socketPath);
  const usable = keys.find((key) => isSupportedKeyType(key.type));
  if (!usable) return undefined;
  const key = publicKeyOf(usable, (reason) => agentError(socketPath, `lists a bad key: ${reason}`));
  return agentSigner(agent, socketPath, key);
}
