// Mounts the transport on `/wire`: the host key, the authorized_keys file (re-read when it
// changes, see authorized-keys-file.ts), single-use challenges, and the channel hub that serves authenticated sessions.
// Without --authorized-keys the endpoint refuses upgrades with 503 and says how to enable it.

import { join } from "node:path";
import type { Logger } from "pino";
import { ChannelHub } from "../channels/channel-hub.js";
import { createError } from "../protocol/errors.js";
import { createChallengeIssuer } from "../transport/auth/challenge.js";
import { fingerprintOf } from "../transport/auth/fingerprint.js";
import { loadOrCreateHostKey } from "../transport/auth/host-key.js";
import { parsePublicKey } from "../transport/auth/public-key.js";
import { acceptWireConnection, defaultWireMaxFrameBytes } from "../transport/wire-server.js";
import { watchAuthorizedKeys } from "./authorized-keys-file.js";
import type { ServerConfig } from "./config.js";
import type { WebSocketEndpoint } from "./upgrade-router.js";

/** The `/wire` endpoint and what it exposes for health and logs. */
export interface WireEndpoint {
  readonly endpoint: WebSocketEndpoint<undefined>;
  /** The host key's fingerprint, for clients to pin; undefined when the transport is off. */
  readonly hostFingerprint: string | undefined;
}

/** Builds the endpoint from the config; loads the keys once up front so errors stop the start. */
export async function createWireEndpoint(
  config: ServerConfig,
  logger: Logger,
): Promise<WireEndpoint> {
  const base = { name: "wire", maxPayload: defaultWireMaxFrameBytes };
  const keysPath = config.authorizedKeys;
  if (keysPath === undefined) {
    return {
      hostFingerprint: undefined,
      endpoint: {
        ...base,
        authenticate: () => ({
          accept: false,
          error: createError(
            "ERR_TRANSPORT_DISABLED",
            "transport disabled: start the server with --authorized-keys FILE",
          ),
        }),
        onConnection: (socket) => socket.terminate(),
      },
    };
  }
  const authorizedKeys = watchAuthorizedKeys(keysPath, logger);
  const hostKey = await loadOrCreateHostKey(config.hostKey ?? join(config.dataDir, "host_key"));
  const hostFingerprint = fingerprintOf(
    parsePublicKey(hostKey.publicKey, (reason) => new Error(reason)),
  );
  const hub = new ChannelHub({ retainBytes: config.retainBytes, logger });
  const challenges = createChallengeIssuer();
  logger.info({ hostFingerprint, authorizedKeys: keysPath }, "transport enabled on /wire");
  return {
    hostFingerprint,
    endpoint: {
      ...base,
      onConnection: (socket, request) =>
        acceptWireConnection(socket, request, {
          serverId: hostFingerprint,
          hostKey,
          challenges,
          authorizedKeys,
          onSession: (session) => hub.attach(session),
          logger,
          heartbeatMs: config.heartbeatMs,
          graceMs: config.heartbeatGraceMs,
        }),
    },
  };
}
