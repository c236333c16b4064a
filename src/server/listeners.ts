// Opens the server's listeners — TCP (plain or TLS, behind a PROXY-protocol acceptor when
// configured) and an optional Unix socket — all serving the same request and upgrade handlers
// under the same timeouts and connection caps, and closes them gracefully.

import { lstatSync, readFileSync, unlinkSync } from "node:fs";
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerOptions,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { connect, type Server as NetServer, type Socket } from "node:net";
import { resolve } from "node:path";
import type { Duplex } from "node:stream";
import { createError, describeError } from "../protocol/errors.js";
import type { ServerConfig } from "./config.js";
import type { ConnectionLimits } from "./connection-limits.js";
import type { LimitMetrics } from "./limit-metrics.js";
import { createProxyAcceptor } from "./proxy-protocol-listener.js";
import { type ClientAddresses, peerAddressOf } from "./trusted-proxies.js";

/** The handlers every listener serves. */
export interface ListenerHandlers {
  readonly request: Parameters<typeof createHttpServer>[1] & {};
  readonly upgrade: (request: IncomingMessage, socket: Duplex, head: Buffer) => void;
}

/** What every connection goes through before HTTP sees it: the caps, and who the client is. */
export interface ConnectionGate {
  readonly limits: ConnectionLimits;
  readonly addresses: ClientAddresses;
  readonly metrics: LimitMetrics;
}

/** One listening address: what accepts connections, and the HTTP server that serves them. */
export interface Listener {
  /** The server that listens: the HTTP server itself, or the PROXY-protocol acceptor. */
  readonly accepting: NetServer;
  readonly http: Server;
  /** Connections accepted but not yet handed to `http` (still sending a PROXY header). */
  readonly pending?: Set<Socket>;
}

/** The open listeners and where they listen. */
export interface Listeners {
  /** `http://host:port` or `https://host:port`, with the real port when 0 was asked. */
  readonly url: string;
  readonly port: number;
  /** The Unix socket path, when one is served. */
  readonly unixPath: string | undefined;
  readonly listeners: readonly Listener[];
}

/** The settings the listeners use, named as in ServerConfig. */
export type ListenerSettings = Pick<
  ServerConfig,
  | "host"
  | "port"
  | "unixSocket"
  | "tlsCert"
  | "tlsKey"
  | "httpHeadersTimeoutMs"
  | "httpRequestTimeoutMs"
  | "httpKeepAliveTimeoutMs"
  | "httpIdleTimeoutMs"
  | "proxyProtocol"
>;

/** Opens the TCP listener (TLS when configured) and the Unix one; all or nothing. */
export async function openListeners(
  config: ListenerSettings,
  handlers: ListenerHandlers,
  gate: ConnectionGate,
): Promise<Listeners> {
  const tcp = createTcpListener(config, handlers, gate);
  const listeners: Listener[] = [tcp];
  // Absolute, so the `listening on unix:…` line is an address clients accept from any folder.
  const unixPath = config.unixSocket === undefined ? undefined : resolve(config.unixSocket);
  try {
    const where = `${config.host}:${config.port}`;
    await listen(tcp.accepting, { host: config.host, port: config.port }, where);
    if (unixPath !== undefined) {
      const unix = attach(createHttpServer(httpOptions(config)), config, handlers, gate);
      gateConnections(unix, gate);
      listeners.push({ accepting: unix, http: unix });
      await removeStaleSocket(unixPath);
      await listen(unix, { path: unixPath }, `unix:${unixPath}`);
    }
  } catch (error) {
    await Promise.all(listeners.map((listener) => closeServer(listener, 0)));
    throw error;
  }
  const address = tcp.accepting.address();
  const port = typeof address === "object" && address !== null ? address.port : config.port;
  const scheme = config.tlsCert === undefined ? "http" : "https";
  const host = config.host.includes(":") ? `[${config.host}]` : config.host;
  return { url: `${scheme}://${host}:${port}`, port, unixPath, listeners };
}

/**
 * Stops accepting and waits for in-flight requests; after `graceMs` the remaining connections
 * are cut. Upgraded sockets are no longer the HTTP server's and are closed by their owners.
 */
export function closeServer(listener: Listener, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const { accepting, http } = listener;
    if (!accepting.listening) return resolve();
    for (const socket of listener.pending ?? []) socket.destroy();
    const timer = setTimeout(() => http.closeAllConnections(), graceMs);
    accepting.close(() => {
      clearTimeout(timer);
      resolve();
    });
    http.closeIdleConnections();
  });
}

/** Node's HTTP timeouts from the settings; the headers timeout is checked every second or less. */
function httpOptions(config: ListenerSettings): ServerOptions {
  return {
    headersTimeout: config.httpHeadersTimeoutMs,
    requestTimeout: config.httpRequestTimeoutMs,
    // Node checks both timeouts only this often (30 s by default, which let a slow client
    // hold its connection half a minute past either).
    connectionsCheckingInterval: Math.min(1000, Math.ceil(config.httpHeadersTimeoutMs / 4)),
  };
}

function createTcpListener(
  config: ListenerSettings,
  handlers: ListenerHandlers,
  gate: ConnectionGate,
): Listener {
  const http = attach(createTcpServer(config), config, handlers, gate);
  if (!config.proxyProtocol) {
    gateConnections(http, gate);
    return { accepting: http, http };
  }
  const acceptor = createProxyAcceptor({
    target: http,
    limits: gate.limits,
    addresses: gate.addresses,
    headerTimeoutMs: config.httpHeadersTimeoutMs,
  });
  return { accepting: acceptor.server, http, pending: acceptor.pending };
}

/**
 * Counts each connection against the caps (a trusted proxy's own connections carry many
 * clients, so only the total counts them); one over a cap is closed at once.
 */
function gateConnections(server: Server, gate: ConnectionGate): void {
  server.on("connection", (socket: Socket) => {
    if (!gate.limits.admit(socket)) return;
    const peer = peerAddressOf(socket);
    if (!gate.addresses.trusts(peer)) gate.limits.admitFrom(socket, peer);
  });
}

function createTcpServer(config: ListenerSettings): Server {
  if (config.tlsCert === undefined || config.tlsKey === undefined) {
    return createHttpServer(httpOptions(config));
  }
  const cert = readTlsFile(config.tlsCert, "--tls-cert");
  const key = readTlsFile(config.tlsKey, "--tls-key");
  try {
    return createHttpsServer({ ...httpOptions(config), cert, key });
  } catch (error) {
    throw createError(
      "ERR_TLS_CONFIG",
      `serve: cannot use TLS certificate ${config.tlsCert} with key ${config.tlsKey}: ${describeError(error)}`,
      { cause: error },
    );
  }
}

function attach(
  server: Server,
  config: ListenerSettings,
  handlers: ListenerHandlers,
  gate: ConnectionGate,
): Server {
  server.keepAliveTimeout = config.httpKeepAliveTimeoutMs;
  // A connection with no traffic either way (a client that stopped reading an answer); ws turns
  // this off on the sockets it takes over, which have their own pings.
  server.setTimeout(config.httpIdleTimeoutMs, (socket: Socket) => {
    gate.metrics.httpTimeouts.inc({ kind: "idle" });
    socket.destroy();
  });
  server.on("request", handlers.request);
  server.on("upgrade", handlers.upgrade);
  // A client that breaks HTTP framing gets a 400, one too slow to send its request a 408 (never
  // cached, like every error answer); the error must never reach the process.
  server.on("clientError", (error: NodeJS.ErrnoException, socket: Duplex) => {
    const timedOut = error.code === "ERR_HTTP_REQUEST_TIMEOUT";
    if (timedOut) gate.metrics.httpTimeouts.inc({ kind: "request" });
    if (socket.writable) {
      const status = timedOut ? "408 Request Timeout" : "400 Bad Request";
      const answer = `HTTP/1.1 ${status}\r\nConnection: close\r\nCache-Control: no-store\r\n\r\n`;
      // Closed once written: HTTP sockets are half-open, and a client trickling bytes would
      // otherwise keep its end open as long as it liked.
      socket.end(answer, () => socket.destroy());
    } else socket.destroy();
  });
  return server;
}

function readTlsFile(path: string, flag: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw createError(
      "ERR_TLS_CONFIG",
      `serve: cannot read ${flag} ${path}: ${describeError(error)}`,
      {
        cause: error,
      },
    );
  }
}

function listen(
  server: NetServer,
  options: { host: string; port: number } | { path: string },
  where: string,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      const reason = error.code === "EADDRINUSE" ? "address already in use" : describeError(error);
      reject(
        createError("ERR_LISTEN", `serve: cannot listen on ${where}: ${reason}`, { cause: error }),
      );
    };
    server.once("error", onError);
    server.listen(options, () => {
      server.off("error", onError);
      resolve();
    });
  });
}

/** A socket file left by a crashed server is removed; a live one, or any other file, is not. */
async function removeStaleSocket(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return; // nothing there
  }
  const where = `unix:${path}`;
  if (!isSocket) {
    throw createError(
      "ERR_LISTEN",
      `serve: cannot listen on ${where}: a file that is not a socket is there`,
    );
  }
  const alive = await new Promise<boolean>((resolve) => {
    const probe = connect({ path });
    probe.once("connect", () => {
      probe.destroy();
      resolve(true);
    });
    probe.once("error", () => resolve(false));
  });
  if (alive) {
    throw createError(
      "ERR_LISTEN",
      `serve: cannot listen on ${where}: another server is listening there`,
    );
  }
  unlinkSync(path);
}
