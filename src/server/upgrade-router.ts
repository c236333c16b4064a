// Dispatches WebSocket upgrades by path to endpoints. Each endpoint authenticates *before* the
// handshake (a refusal is a real HTTP status) and gets its own `ws` server with its own limits.

import type { IncomingMessage } from "node:http";
import { STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import { type WebSocket, WebSocketServer } from "ws";
import { StandardCloseCode } from "../protocol/close-codes.js";
import { createError, type SynclineError } from "../protocol/errors.js";
import { errorBody, httpStatusOf, retryAfterHeader } from "./http-errors.js";

/**
 * The result of an endpoint's pre-upgrade check. A refusal is answered as any HTTP error is:
 * the error's status, `{error: {code, message}}`, never cached.
 */
export type UpgradeDecision<Context> =
  | { readonly accept: true; readonly context: Context }
  | { readonly accept: false; readonly error: SynclineError };

/** A WebSocket endpoint: what it accepts, how big its messages may be, what it does. */
export interface WebSocketEndpoint<Context = unknown> {
  /** A short name for logs and metrics, e.g. "automerge" or "wire". */
  readonly name: string;
  /** Largest message accepted, in bytes; bigger ones close the socket with 1009. */
  readonly maxPayload: number;
  /** Decides before the handshake; default accepts with an undefined context. */
  authenticate?(
    request: IncomingMessage,
  ): UpgradeDecision<Context> | Promise<UpgradeDecision<Context>>;
  /** Takes over an accepted socket. */
  onConnection(socket: WebSocket, request: IncomingMessage, context: Context): void;
}

/** Called for every upgrade outcome, for logs and metrics. */
export interface UpgradeObserver {
  accepted(endpoint: string, socket: WebSocket): void;
  refused(endpoint: string, error: SynclineError): void;
  /** A socket error (oversized or malformed frame, reset); the socket is closed by `ws`. */
  socketError(endpoint: string, error: Error): void;
}

/** Which requests a route takes: an exact path, or a predicate on the path. */
export type PathMatcher = string | ((path: string) => boolean);

interface MountedEndpoint {
  readonly matches: (path: string) => boolean;
  readonly endpoint: WebSocketEndpoint<unknown>;
  readonly server: WebSocketServer;
}

/** Routes upgrades; the first matching route wins, then the fallback, else HTTP 404. */
export class UpgradeRouter {
  readonly #routes: MountedEndpoint[] = [];
  #fallback: MountedEndpoint | undefined;
  #accepting = true;

  constructor(private readonly observer?: UpgradeObserver) {}

  /** Mounts `endpoint` on the paths `matcher` accepts. */
  route<Context>(matcher: PathMatcher, endpoint: WebSocketEndpoint<Context>): this {
    this.#routes.push(mount(matcher, endpoint as WebSocketEndpoint<unknown>));
    return this;
  }

  /** Mounts `endpoint` on every path no route takes. */
  fallback<Context>(endpoint: WebSocketEndpoint<Context>): this {
    this.#fallback = mount(() => true, endpoint as WebSocketEndpoint<unknown>);
    return this;
  }

  /** Every open socket of every endpoint. */
  get sockets(): WebSocket[] {
    const all = [...this.#routes, ...(this.#fallback ? [this.#fallback] : [])];
    return all.flatMap((mounted) => [...mounted.server.clients]);
  }

  /** From now on every upgrade is refused with 503 (used during shutdown). */
  stopAccepting(): void {
    this.#accepting = false;
  }

  /** The `upgrade` listener for node's HTTP servers. */
  readonly handleUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on("error", () => socket.destroy());
    const path = pathOf(request);
    const mounted = this.#routes.find((route) => route.matches(path)) ?? this.#fallback;
    if (!mounted) {
      this.#refuse(
        socket,
        "none",
        createError("ERR_NOT_FOUND", `no websocket endpoint at ${path}`),
      );
    } else if (!this.#accepting) {
      this.#refuse(socket, mounted.endpoint.name, shuttingDown());
    } else {
      void this.#decide(mounted, request).then(
        (decision) => {
          if (decision.accept) this.#accept(mounted, request, socket, head, decision.context);
          else this.#refuse(socket, mounted.endpoint.name, decision.error);
        },
        (error: unknown) =>
          this.#refuse(
            socket,
            mounted.endpoint.name,
            createError("ERR_UNEXPECTED", `${mounted.endpoint.name}: the upgrade check failed`, {
              cause: error,
            }),
          ),
      );
    }
  };

  #accept(
    mounted: MountedEndpoint,
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    context: unknown,
  ): void {
    if (socket.destroyed) return;
    const name = mounted.endpoint.name;
    // The check may have waited (e.g. on the store) while shutdown began: a socket accepted now
    // would miss the 1001 sent to the open ones and hold the server open.
    if (!this.#accepting) {
      this.#refuse(socket, name, shuttingDown());
      return;
    }
    mounted.server.handleUpgrade(request, socket, head, (ws) => {
      // Always listened to, so a bad frame closes its socket and never reaches the process.
      ws.on("error", (error) => this.observer?.socketError(name, error));
      this.observer?.accepted(name, ws);
      try {
        mounted.endpoint.onConnection(ws, request, context);
      } catch (error) {
        this.observer?.socketError(name, error instanceof Error ? error : new Error(String(error)));
        ws.close(StandardCloseCode.internalError, "internal error");
      }
    });
  }

  async #decide(mounted: MountedEndpoint, request: IncomingMessage) {
    const { endpoint } = mounted;
    if (!endpoint.authenticate) return { accept: true, context: undefined } as const;
    return endpoint.authenticate(request);
  }

  #refuse(socket: Duplex, endpoint: string, error: SynclineError): void {
    this.observer?.refused(endpoint, error);
    writeHttpRefusal(socket, error);
  }
}

function shuttingDown(): SynclineError {
  return createError(
    "ERR_SHUTTING_DOWN",
    "server is shutting down; retry on another node or later",
  );
}

/** Answers a not-yet-upgraded socket with `error` as every HTTP error is answered, and closes it. */
export function writeHttpRefusal(socket: Duplex, error: SynclineError): void {
  if (socket.destroyed) return;
  const status = httpStatusOf(error);
  const body = errorBody(error);
  const retryAfter = retryAfterHeader(error)["retry-after"];
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Error"}\r\n` +
      "Connection: close\r\nContent-Type: application/json; charset=utf-8\r\n" +
      "Cache-Control: no-store\r\n" +
      (retryAfter === undefined ? "" : `Retry-After: ${retryAfter}\r\n`) +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

function mount(matcher: PathMatcher, endpoint: WebSocketEndpoint<unknown>): MountedEndpoint {
  const matches = typeof matcher === "string" ? (path: string) => path === matcher : matcher;
  const server = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: endpoint.maxPayload,
  });
  return { matches, endpoint, server };
}

function pathOf(request: IncomingMessage): string {
  const url = request.url ?? "/";
  const end = url.indexOf("?");
  return end === -1 ? url : url.slice(0, end);
}
