// Mounts the transport on `/wire`: the host key, the authorized_keys file (re-read when it
// changes, see authorized-keys-file.ts), single-use challenges, the channel hub that serves
// authenticated sessions (on the store, with its spool folder in the data directory), and their
// metrics. Without --authorized-keys the endpoint refuses upgrades with 503 and says how to
// enable it.

import type { IncomingMessage } from "node:http";
import { join } from "node:path";
import type { Logger } from "pino";
import type { Bus } from "../bus/bus.js";
import { ChannelHub } from "../channels/channel-hub.js";
import { WireCloseCode } from "../protocol/close-codes.js";
import { createError, type SynclineError } from "../protocol/errors.js";
import type { Store } from "../storage/store.js";
import { createChallengeIssuer } from "../transport/auth/challenge.js";
import { fingerprintOf } from "../transport/auth/fingerprint.js";
import { loadOrCreateHostKey } from "../transport/auth/host-key.js";
import { parsePublicKey } from "../transport/auth/public-key.js";
import { acceptWireConnection, defaultWireMaxFrameBytes } from "../transport/wire-server.js";
import { watchAuthorizedKeys } from "./authorized-keys-file.js";
import type { ServerConfig } from "./config.js";
import type { OutputBudget } from "./output-budget.js";
import { trackWebSocket } from "./output-streams.js";
import type { RequestGuards } from "./request-guards.js";
import { unixPeer } from "./trusted-proxies.js";
import type { UnauthenticatedSlot } from "./unauthenticated-sockets.js";
import type { UpgradeDecision, WebSocketEndpoint } from "./upgrade-router.js";
import type { WireMetrics } from "./wire-metrics.js";

/** What an accepted `/wire` socket carries: its client, counted unauthenticated until WELCOME. */
export interface WireClient {
  readonly address: string;
  readonly slot: UnauthenticatedSlot | undefined;
}

/** The `/wire` endpoint and what it exposes for health and logs. */
export interface WireEndpoint {
  readonly endpoint: WebSocketEndpoint<WireClient>;
  /** The host key's fingerprint, for clients to pin; undefined when the transport is off. */
  readonly hostFingerprint: string | undefined;
  /** Stops the channels (after the server closed the sockets, before the store closes). */
  close(): Promise<void>;
}

/** The folder of spooled channel payloads, in the data directory. */
export const spoolFolderName = "channel-spool";

/**
 * Builds the endpoint from the config; loads the keys once up front so errors stop the start.
 * `bus`: to the other nodes sharing `store` (channels reach their followers too); absent: one node.
 */
export async function createWireEndpoint(
  config: ServerConfig,
  store: Store,
  metrics: WireMetrics,
  logger: Logger,
  output: OutputBudget,
  guards: RequestGuards,
  bus?: Bus,
): Promise<WireEndpoint> {
  const base = { name: "wire", maxPayload: defaultWireMaxFrameBytes };
  const keysPath = config.authorizedKeys;
  if (keysPath === undefined) {
    return {
      hostFingerprint: undefined,
      close: async () => {},
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
  // Frame bytes are summed here and added to the counters at each scrape: a counter's inc per
  // frame was a visible share of a relay's CPU at hundreds of MiB/s.
  const traffic = { in: 0, out: 0 };
  const bytesIn = metrics.bytes.labels({ direction: "in" });
  const bytesOut = metrics.bytes.labels({ direction: "out" });
  const hub = await startChannelHub(config, store, metrics, logger, bus, () => {
    bytesIn.inc(traffic.in);
    bytesOut.inc(traffic.out);
    traffic.in = 0;
    traffic.out = 0;
  });
  const challenges = createChallengeIssuer();
  logger.info({ hostFingerprint, authorizedKeys: keysPath }, "transport enabled on /wire");
  return {
    hostFingerprint,
    close: () => hub.close(),
    endpoint: {
      ...base,
      authenticate: (request) => admitWireClient(request, guards),
      onConnection: (socket, request, { address, slot }) => {
        trackWebSocket(output, "wire", socket, request.socket, WireCloseCode.slowReader);
        acceptWireConnection(socket, request, {
          serverId: hostFingerprint,
          hostKey,
          challenges,
          authorizedKeys,
          onSession: (session) => {
            slot?.release();
            hub.attach(session);
          },
          onHandshakeFailed: (error) => {
            if (error.code.startsWith("ERR_AUTH_")) guards.rateLimits.authFailed(address);
          },
          // A Unix-socket peer has no address: the transport counts it as loopback for `from=`.
          remoteAddress: address === unixPeer ? undefined : address,
          logger,
          heartbeatMs: config.heartbeatMs,
          graceMs: config.heartbeatGraceMs,
          observer: {
            authenticated: () => metrics.connections.inc(),
            sessionClosed: () => metrics.connections.dec(),
            refused: (code) => metrics.authFailures.inc({ reason: code }),
            received: (bytes) => {
              traffic.in += bytes;
            },
            sent: (bytes) => {
              traffic.out += bytes;
            },
          },
        });
      },
    },
  };
}

/**
 * The channel hub on the store and the spool folder, started, its state sampled for metrics
 * (after `flushCounts`, which brings the counters summed elsewhere up to date).
 */
async function startChannelHub(
  config: ServerConfig,
  store: Store,
  metrics: WireMetrics,
  logger: Logger,
  bus: Bus | undefined,
  flushCounts: () => void,
): Promise<ChannelHub> {
  const hub = new ChannelHub({
    store,
    spoolFolder: join(config.dataDir, spoolFolderName),
    settings: config,
    logger,
    observer: {
      transfer: (kind, event) => metrics.transfers.inc({ kind, event }),
      slowReader: () => metrics.slowReaders.inc(),
    },
    ...(bus ? { bus } : {}),
  });
  await hub.start();
  metrics.sampleWith(() => {
    flushCounts();
    metrics.bufferedBytes.set(hub.heldBytes);
    metrics.channels.set(hub.channelsInMemory);
    metrics.keptBytes.set({ where: "store" }, hub.keptBytes("store"));
    metrics.keptBytes.set({ where: "spool" }, hub.keptBytes("spool"));
  });
  return hub;
}

/**
 * Before the handshake: an address that used up its failed authentications is refused (429),
 * and the connection counts as unauthenticated until WELCOME.
 */
function admitWireClient(
  request: IncomingMessage,
  guards: RequestGuards,
): UpgradeDecision<WireClient> {
  const address = guards.addresses.of(request);
  const refuse = (error: SynclineError) => ({ accept: false, error }) as const;
  const locked = guards.rateLimits.authRefusal(address, "wire");
  if (locked) return refuse(locked);
  const slot = guards.unauthenticated.reserve(address, request.socket, "wire");
  return "release" in slot ? { accept: true, context: { address, slot } } : refuse(slot);
}
