// Mounts live shares: the share hub on the store, its HTTP API, the viewer WebSocket at
// `/share_poll?id=<id>[&since=<seq>[&epoch=<epoch>]][&v=2]` (or `?sessionID=<full id>`), keepalive
// pings for viewers, and metrics. Unknown shares are refused with 404 before the upgrade, deleted
// ones with 410.

import type { IncomingMessage } from "node:http";
import type { Logger } from "pino";
import type { Bus } from "../bus/bus.js";
import { ShareCloseCode } from "../protocol/close-codes.js";
import { createError, isSynclineError, type SynclineError } from "../protocol/errors.js";
import {
  isShareEpoch,
  parseViewerVersion,
  type ViewerVersion,
  viewerVersionParam,
  viewerVersions,
} from "../protocol/share-frames.js";
import { isShareId, shareIdOfSession } from "../protocol/share-items.js";
import { badRequest } from "../share/share-errors.js";
import { ShareHub } from "../share/share-hub.js";
import { wsViewerSocket } from "../share/ws-viewer.js";
import type { Store } from "../storage/store.js";
import type { ServerConfig } from "./config.js";
import type { HttpRouter } from "./http-router.js";
import type { ShareMetrics } from "./metrics.js";
import type { OutputBudget } from "./output-budget.js";
import { trackWebSocket } from "./output-streams.js";
import type { RequestGuards } from "./request-guards.js";
import { addShareRoutes } from "./share-routes.js";
import type { UpgradeDecision, WebSocketEndpoint } from "./upgrade-router.js";
import { createWsKeepalive } from "./ws-keepalive.js";

/** Which share a viewer asked for, and from which seq (of which epoch) it wants to catch up. */
export interface ViewerRequest {
  readonly id: string;
  readonly since: number | undefined;
  /** The epoch `since` belongs to (the share's epoch when the viewer saw its full state). */
  readonly epoch?: string | undefined;
  /** The form of frames it asked for (`&v=`; 1, OpenCode's, when absent). */
  readonly version: ViewerVersion;
}

/** The hub, its viewer endpoint, and its shutdown. */
export interface ShareEndpoint {
  readonly hub: ShareHub;
  readonly endpoint: WebSocketEndpoint<ViewerRequest>;
  /** Stops pings and waits for writes in flight (sockets are closed by the server first). */
  close(): Promise<void>;
}

/** Options beyond the config (tests). */
export interface ShareEndpointOptions {
  /** Ping period for viewers, overriding `--ws-keepalive` (tests: a short one). */
  readonly keepaliveMs?: number;
  /** The bus to the other nodes, when there are several (the server passes its own). */
  readonly bus?: Bus | undefined;
}

/** Builds the hub on `store`, adds its HTTP routes to `http`, and returns the viewer endpoint. */
export function createShareEndpoint(
  config: ServerConfig,
  store: Store,
  http: HttpRouter,
  metrics: ShareMetrics,
  logger: Logger,
  output: OutputBudget,
  guards: RequestGuards,
  options: ShareEndpointOptions = {},
): ShareEndpoint {
  const hub = new ShareHub({
    store,
    settings: config,
    bus: options.bus,
    observer: {
      shareLoaded: () => metrics.activeShares.inc(),
      shareEvicted: () => metrics.activeShares.dec(),
      loadedBytes: (bytes) => metrics.loadedBytes.set(bytes),
      published: () => metrics.publishes.inc(),
      delivered: (frames) => metrics.deliveries.inc(frames),
      broadcast: (seconds) => metrics.publishToBroadcast.observe(seconds),
      slowViewer: () => metrics.slowViewers.inc(),
      storedBytes: (bytes) => metrics.storedBytes.set(bytes),
      tombstones: (count) => metrics.tombstones.set(count),
      expired(share) {
        metrics.expired.inc();
        logger.info({ share }, "share expired: not written within share_expire_after_ms");
      },
      error: (error, context) => logger.error({ err: error }, `share: ${context} failed`),
    },
  });
  addShareRoutes(http, {
    hub,
    maxBodyBytes: config.shareMaxBodyBytes,
    publicUrl: config.sharePublicUrl,
    tls: config.tlsCert !== undefined,
    maxJsonDepth: config.shareMaxJsonDepth,
    createToken: config.shareCreateToken,
    rateLimits: guards.rateLimits,
  });

  const keepalive = createWsKeepalive(options.keepaliveMs ?? config.wsKeepaliveMs);

  const endpoint: WebSocketEndpoint<ViewerRequest> = {
    name: "share",
    // Viewers send nothing meaningful; anything sizable is a misbehaving client.
    maxPayload: 4096,
    authenticate: (request) => decideViewer(request, hub, guards),
    onConnection(socket, request, { id, ...join }) {
      metrics.viewers.inc();
      keepalive.add(socket);
      trackWebSocket(output, "share", socket, request.socket, ShareCloseCode.tooSlow);
      socket.on("message", () => {}); // ignored (viewers only listen), but read so the socket keeps flowing
      let detach: (() => void) | undefined;
      let closed = false;
      socket.once("close", () => {
        closed = true;
        keepalive.delete(socket);
        metrics.viewers.dec();
        detach?.();
      });
      hub.attach(id, wsViewerSocket(socket, request.socket), join).then(
        (result) => {
          if (closed) result?.();
          else detach = result;
        },
        (error: unknown) => {
          logger.warn({ err: error, share: id }, "share viewer could not attach");
          socket.close(ShareCloseCode.storageFailed, "share unavailable; retry");
        },
      );
    },
  };
  return {
    hub,
    endpoint,
    async close() {
      keepalive.stop();
      await hub.close();
    },
  };
}

/** Reads the viewer's query; refuses a bad one (400) and an unknown share (404). */
async function decideViewer(
  request: IncomingMessage,
  hub: ShareHub,
  guards: RequestGuards,
): Promise<UpgradeDecision<ViewerRequest>> {
  // Viewers carry no credential: counted against their address's cap from here on.
  const address = guards.addresses.of(request);
  const slot = guards.unauthenticated.reserve(address, request.socket, "share viewer");
  if (!("release" in slot)) return refuse(slot);
  let viewer: ViewerRequest;
  try {
    viewer = parseViewerQuery(new URL(request.url ?? "/", "http://localhost").searchParams);
  } catch (error) {
    if (isSynclineError(error)) return refuse(error);
    throw error;
  }
  const { id } = viewer;
  try {
    // A deleted share is refused 410 (ERR_SHARE_DELETED) while remembered, an unknown one 404.
    if (!(await hub.exists(id))) return refuse(hub.missing("share viewer", id));
  } catch (error) {
    // Over the memory budget the viewer learns why; a storage failure stays in the server's log.
    if (isSynclineError(error, "ERR_SHARE_MEMORY_BUDGET")) return refuse(error);
    return refuse(
      createError(
        "ERR_SHARE_STORAGE",
        `share viewer: share ${JSON.stringify(id)} cannot be loaded now; retry`,
      ),
    );
  }
  return { accept: true, context: viewer };
}

/**
 * `?id=` / `?sessionID=`, `&since=`, `&epoch=` and `&v=` of a viewer's upgrade; throws a 400
 * naming the first bad one.
 */
function parseViewerQuery(query: URLSearchParams): ViewerRequest {
  return {
    id: viewerShareId(query),
    since: viewerSince(query.get("since")),
    epoch: viewerEpoch(query.get("epoch")),
    version: viewerVersion(query.get(viewerVersionParam)),
  };
}

function viewerShareId(query: URLSearchParams): string {
  const given = query.get("id");
  const sessionID = query.get("sessionID");
  const id = given ?? (sessionID === null ? undefined : shareIdOfSession(sessionID));
  if (id !== undefined && isShareId(id)) return id;
  const shown = given ?? sessionID;
  throw badRequest(
    shown === null
      ? "share viewer: ?id=<share id> or ?sessionID=<session id> is required"
      : `share viewer: ${given !== null ? "id" : "sessionID"} ${JSON.stringify(shown)} is not a valid share or session id`,
  );
}

function viewerSince(text: string | null): number | undefined {
  if (text === null) return undefined;
  if (/^\d{1,15}$/.test(text)) return Number(text);
  throw badRequest(`share viewer: since ${JSON.stringify(text)} is not a sequence number`);
}

function viewerEpoch(text: string | null): string | undefined {
  if (text === null) return undefined;
  if (isShareEpoch(text as unknown)) return text;
  const shown = JSON.stringify(text.slice(0, 100));
  throw badRequest(`share viewer: epoch ${shown} is not a share epoch (1–64 of A-Z a-z 0-9 _ -)`);
}

function viewerVersion(text: string | null): ViewerVersion {
  const version = text === null ? 1 : parseViewerVersion(text);
  if (version !== undefined) return version;
  const shown = JSON.stringify(text?.slice(0, 20));
  throw badRequest(
    `share viewer: v ${shown} is not a form of frames this server sends (${viewerVersions.join(" or ")})`,
  );
}

function refuse(error: SynclineError): UpgradeDecision<ViewerRequest> {
  return { accept: false, error };
}
