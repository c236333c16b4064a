// The one WebSocket dialer of every Node client (the automerge sync client, the transport, the
// share viewer in a terminal): opens a socket to a path of a parsed server address over TCP, TLS
// or a Unix socket, trusting extra CAs when given, and turns every failure into an error that
// says what happened: the server's own refusal text, the network's reason, a TLS mismatch.

import type { Socket } from "node:net";
import { WebSocket } from "ws";
import { createError, type SynclineError } from "../protocol/errors.js";
import { connectError, refusalError } from "./connect-errors.js";
import { maskOptionsFor } from "./frame-masking.js";
import {
  describeAddress,
  parseServerAddress,
  type ServerAddress,
  webSocketUrl,
} from "./server-address.js";

/** How to open one socket. */
export interface DialWebSocketOptions {
  readonly address: ServerAddress;
  /** The path (and query) on the server, e.g. `/wire` or `/share_poll?id=…`. */
  readonly path: string;
  /** What is connecting, first in error messages (`sync`, `wire`, `share watch`). */
  readonly context: string;
  /** Time for TCP, TLS and the upgrade, ms. */
  readonly timeoutMs: number;
  /** Largest message accepted, bytes. */
  readonly maxPayload: number;
  /** Extra CA certificates (PEM) to trust for wss://, e.g. a self-signed server's. */
  readonly ca?: string | Buffer | undefined;
  /** How the server is named in messages; default the address (never a URL with a token). */
  readonly where?: string;
}

/** An open socket and the TCP, TLS or Unix socket under it. */
export interface DialedWebSocket {
  readonly socket: WebSocket;
  readonly transport: Socket;
}

/** Most bytes of a refusal's body read for its message. */
const maxRefusalBytes = 4096;

/** Opens the socket; rejects with a SynclineError whose `retryable` says whether to try again. */
export function dialWebSocket(options: DialWebSocketOptions): Promise<DialedWebSocket> {
  const where = options.where ?? describeAddress(options.address);
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(webSocketUrl(options.address, options.path), {
      perMessageDeflate: false,
      ...maskOptionsFor(options.address),
      maxPayload: options.maxPayload,
      handshakeTimeout: Math.max(1, Math.round(options.timeoutMs)),
      ...(options.ca === undefined ? {} : { ca: options.ca }),
    });
    let transport: Socket | undefined;
    let settled = false;
    const fail = (error: SynclineError) => {
      if (settled) return;
      settled = true;
      socket.terminate();
      reject(error);
    };
    socket.once("upgrade", (response) => {
      transport = response.socket as Socket;
    });
    socket.once("open", () => {
      socket.removeAllListeners("error");
      socket.removeAllListeners("unexpected-response");
      settled = true;
      resolve({ socket, transport: transport as Socket });
    });
    socket.once("unexpected-response", (_request, response) => {
      const status = response.statusCode ?? 0;
      readLimited(response, maxRefusalBytes).then((body) =>
        fail(refusalError(options.context, where, status, body)),
      );
    });
    socket.on("error", (error) => fail(connectError(options.context, where, error)));
  });
}

/** The first `limit` bytes of a response body as text; whatever arrived when it ends or fails. */
function readLimited(
  response: NodeJS.ReadableStream & { destroy(): void },
  limit: number,
): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const done = () => {
      response.destroy();
      resolve(Buffer.concat(chunks).toString("utf8"));
    };
    response.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      length += chunk.length;
      if (length >= limit) done();
    });
    response.once("end", done);
    response.once("error", done);
    response.once("close", done);
  });
}

/**
 * A WebSocket class for code that takes a constructor (the share viewer client): URLs made from
 * `httpUrl(address, …)` or `webSocketUrl(address, …)` are dialed over the address's socket, with
 * the extra CAs trusted, as `dialWebSocket` dials. `server` is a parsed address or its text
 * (`ws(s)://…`, `http(s)://…`, `unix:/path.sock`).
 */
export function webSocketClassFor(
  server: ServerAddress | string,
  ca?: string | Buffer,
): new (
  url: string,
) => WebSocket {
  const address = typeof server === "string" ? parseServerAddress(server) : server;
  return class extends WebSocket {
    constructor(url: string) {
      const target = socketUrl(url);
      const path = `${target.pathname}${target.search}`;
      super(address.kind === "unix" ? webSocketUrl(address, path) : target.toString(), {
        perMessageDeflate: false,
        ...maskOptionsFor(address),
        ...(ca === undefined ? {} : { ca }),
      });
    }
  };
}

/** A URL the socket class is asked to dial; ERR_INVALID_SERVER_URL when it does not parse. */
function socketUrl(url: string): URL {
  try {
    return new URL(url);
  } catch {
    throw createError(
      "ERR_INVALID_SERVER_URL",
      `websocket: url ${JSON.stringify(url)} is not a ws(s):// or http(s):// url`,
    );
  }
}
