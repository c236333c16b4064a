// Mounts automerge-repo sync (protocol "1") as the upgrade fallback, as the reference server
// serves it on any path: optional token check before the upgrade, one PeerSession per socket,
// keepalive pings, and the document hub whose writes are flushed on shutdown.

import type { IncomingMessage } from "node:http";
import type { Logger } from "pino";
import { DocumentHub } from "../automerge/document-hub.js";
import { PeerSession } from "../automerge/peer-session.js";
import type { Bus } from "../bus/bus.js";
import { AutomergeCloseCode } from "../protocol/close-codes.js";
import { createError, type SynclineError } from "../protocol/errors.js";
import type { Store } from "../storage/store.js";
import { timingSafeEqualStrings } from "../util/timing-safe.js";
import type { ServerConfig } from "./config.js";
import type { AutomergeMetrics } from "./metrics.js";
import type { OutputBudget } from "./output-budget.js";
import { trackWebSocket } from "./output-streams.js";
import type { RequestGuards } from "./request-guards.js";
import type { UpgradeDecision, WebSocketEndpoint } from "./upgrade-router.js";
import { createWsKeepalive } from "./ws-keepalive.js";

/** What an accepted socket carries from its upgrade check: the client's address. */
export interface AutomergePeerContext {
  readonly address: string;
}

/** The endpoint and the hub behind it. */
export interface AutomergeEndpoint {
  readonly endpoint: WebSocketEndpoint<AutomergePeerContext>;
  readonly hub: DocumentHub;
  /** Stops pings, finishes running work and makes every accepted change durable. */
  close(): Promise<void>;
}

/** Options beyond the config, mostly for tests. */
export interface AutomergeEndpointOptions {
  /** Ping period, overriding `--ws-keepalive` (tests: a short one). */
  readonly keepaliveMs?: number;
  /** The bus to the other nodes, when there are several (the server passes its own). */
  readonly bus?: Bus | undefined;
}

/** Builds the hub on `store` and the endpoint that feeds it. */
export async function createAutomergeEndpoint(
  config: ServerConfig,
  store: Store,
  metrics: AutomergeMetrics,
  logger: Logger,
  output: OutputBudget,
  guards: RequestGuards,
  options: AutomergeEndpointOptions = {},
): Promise<AutomergeEndpoint> {
  const hub = new DocumentHub({
    store,
    serverPeerId: `syncline-${process.pid}-${Date.now().toString(36)}`,
    settings: config,
    bus: options.bus,
    observer: {
      documentLoaded(seconds) {
        metrics.tally.load(seconds);
        metrics.documentsInMemory.inc();
      },
      documentEvicted() {
        metrics.documentsEvicted.inc();
        metrics.documentsInMemory.dec();
      },
      saved: (seconds) => metrics.saveDuration.observe(seconds),
      peerAttached: () => metrics.peers.inc(),
      freshAnswerReused: () => metrics.freshAnswersReused.inc(),
      peerDetached: () => metrics.peers.dec(),
      syncIn: (bytes) => metrics.tally.sync("in", bytes),
      syncOut: (bytes) => metrics.tally.sync("out", bytes),
      ephemeralDropped: (reason) => metrics.ephemeralDropped.inc({ reason }),
      ephemeralSessions(entries, bytes) {
        metrics.ephemeralSessions.set(entries);
        metrics.ephemeralSessionBytes.set(bytes);
      },
      error: (error, context) => logger.error({ err: error }, `automerge: ${context} failed`),
    },
  });
  await hub.start();
  const storageId = await hub.storageId();
  const keepalive = createWsKeepalive(options.keepaliveMs ?? config.wsKeepaliveMs);

  const token = config.automergeToken;
  const endpoint: WebSocketEndpoint<AutomergePeerContext> = {
    name: "automerge",
    maxPayload: config.automergeMaxMessageBytes,
    authenticate: (request) => admitPeer(request, token, guards),
    onConnection(socket, request, { address }) {
      keepalive.add(socket);
      // What the peer has not read is the budget's: ephemeral copies ask it first (dropped over
      // budget), everything else is sent and the budget cuts a peer that does not read it.
      const tracked = trackWebSocket(
        output,
        "automerge",
        socket,
        request.socket,
        AutomergeCloseCode.slowReader,
      );
      const session = new PeerSession(
        {
          send: (frame) => socket.send(frame, { binary: true }),
          admits: (bytes) => tracked.admits(bytes),
          close: (code, reason) => socket.close(code, closeReason(reason)),
        },
        {
          hub,
          storageId,
          admitNewDocument: (documentId) =>
            guards.rateLimits.takeDocumentCreate(address, documentId),
          onError: (error) =>
            logger.info({ code: error.code, reason: error.message }, "automerge socket closed"),
        },
      );
      socket.on("message", (data: Buffer | ArrayBuffer | Buffer[]) => {
        session.receive(toBytes(data));
      });
      socket.once("close", () => {
        keepalive.delete(socket);
        session.socketClosed();
      });
    },
  };
  return {
    endpoint,
    hub,
    async close() {
      keepalive.stop();
      await hub.close();
    },
  };
}

/**
 * Without a token every peer is unauthenticated and counted as such; with one, `?token=` must
 * match it (compared in constant time), else 401 and a failed authentication of the address —
 * which, once it has used up its failures, is refused 429 without a check.
 */
function admitPeer(
  request: IncomingMessage,
  token: string | undefined,
  guards: RequestGuards,
): UpgradeDecision<AutomergePeerContext> {
  const address = guards.addresses.of(request);
  const refuse = (error: SynclineError) => ({ accept: false, error }) as const;
  if (token === undefined) {
    const slot = guards.unauthenticated.reserve(address, request.socket, "automerge sync");
    return "release" in slot ? { accept: true, context: { address } } : refuse(slot);
  }
  const locked = guards.rateLimits.authRefusal(address, "automerge sync");
  if (locked) return refuse(locked);
  const given = new URL(request.url ?? "/", "http://localhost").searchParams.get("token");
  if (given !== null && timingSafeEqualStrings(given, token)) {
    return { accept: true, context: { address } };
  }
  guards.rateLimits.authFailed(address);
  const problem = given === null ? "needs ?token= in the URL" : "the token is not valid";
  return refuse(createError("ERR_UNAUTHORIZED", `automerge sync: ${problem}`));
}

/** A close reason within WebSocket's 123-byte limit (ws throws beyond it), cut at a character. */
export function closeReason(reason: string): string {
  let out = reason;
  while (Buffer.byteLength(out) > 123) out = out.slice(0, -1);
  return out;
}

function toBytes(data: Buffer | ArrayBuffer | Buffer[]): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  return data instanceof ArrayBuffer ? new Uint8Array(data) : data;
}
