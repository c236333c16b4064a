// Opens the server's listeners — TCP (plain or TLS) and an optional Unix socket — all serving
// the same request and upgrade handlers, and closes them gracefully.

import { lstatSync, readFileSync, unlinkSync } from "node:fs";
import { createServer as createHttpServer, type IncomingMessage, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { connect } from "node:net";
import { resolve } from "node:path";
import type { Duplex } from "node:stream";
import { createError, describeError } from "../protocol/errors.js";
import type { ServerConfig } from "./config.js";

/** The handlers every listener serves. */
export interface ListenerHandlers {
  readonly request: Parameters<typeof createHttpServer>[1] & {};
  readonly upgrade: (request: IncomingMessage, socket: Duplex, head: Buffer) => void;
}

/** The open listeners and where they listen. */
export interface Listeners {
  /** `http://host:port` or `https://host:port`, with the real port when 0 was asked. */
  readonly url: string;
  readonly port: number;
  /** The Unix socket path, when one is served. */
  readonly unixPath: string | undefined;
  readonly servers: readonly Server[];
}

/** Opens the TCP listener (TLS when configured) and the Unix one; all or nothing. */
export async function openListeners(
  config: ServerConfig,
  handlers: ListenerHandlers,
): Promise<Listeners> {
  const tcp = createTcpServer(config, handlers);
  const servers: Server[] = [tcp];
  // Absolute, so the `listening on unix:…` line is an address clients accept from any folder.
  const unixPath = config.unixSocket === undefined ? undefined : resolve(config.unixSocket);
  try {
    await listen(tcp, { host: config.host, port: config.port }, `${config.host}:${config.port}`);
    if (unixPath !== undefined) {
      const unix = attach(createHttpServer(), handlers);
      servers.push(unix);
      await removeStaleSocket(unixPath);
      await listen(unix, { path: unixPath }, `unix:${unixPath}`);
    }
  } catch (error) {
    await Promise.all(servers.map((server) => closeServer(server, 0)));
    throw error;
  }
  const address = tcp.address();
  const port = typeof address === "object" && address !== null ? address.port : config.port;
  const scheme = config.tlsCert === undefined ? "http" : "https";
  const host = config.host.includes(":") ? `[${config.host}]` : config.host;
  return { url: `${scheme}://${host}:${port}`, port, unixPath, servers };
}

/**
 * Stops accepting and waits for in-flight requests; after `graceMs` the remaining connections
 * are cut. Upgraded sockets are no longer the HTTP server's and are closed by their owners.
 */
export function closeServer(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}

function createTcpServer(config: ServerConfig, handlers: ListenerHandlers): Server {
  if (config.tlsCert === undefined || config.tlsKey === undefined) {
    return attach(createHttpServer(), handlers);
  }
  const cert = readTlsFile(config.tlsCert, "--tls-cert");
  const key = readTlsFile(config.tlsKey, "--tls-key");
  try {
    return attach(createHttpsServer({ cert, key }), handlers);
  } catch (error) {
    throw createError(
      "ERR_TLS_CONFIG",
      `serve: cannot use TLS certificate ${config.tlsCert} with key ${config.tlsKey}: ${describeError(error)}`,
      { cause: error },
    );
  }
}

function attach(server: Server, handlers: ListenerHandlers): Server {
  server.on("request", handlers.request);
  server.on("upgrade", handlers.upgrade);
  // A client that breaks HTTP framing gets a 400 (never cached, like every error answer); the
  // error must never reach the process.
  server.on("clientError", (_error, socket: Duplex) => {
    if (socket.writable) {
      socket.end(
        "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nCache-Control: no-store\r\n\r\n",
      );
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
  server: Server,
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
