// The TCP acceptor in front of the HTTP(S) server when --proxy-protocol is on: each connection
// must come from a trusted proxy and start with a PROXY header (v1 or v2), read within the
// headers timeout; the client it names is then counted against the per-address cap and recorded
// for limits and logs, and the connection is handed to the HTTP server with the bytes after the
// header. Anything else is closed at once, without an answer.

import { createServer, type Server as NetServer, type Socket } from "node:net";
import type { ConnectionLimits } from "./connection-limits.js";
import { parseProxyHeader } from "./proxy-protocol.js";
import { type ClientAddresses, peerAddressOf, setProxiedAddress } from "./trusted-proxies.js";

/** What the acceptor needs. */
export interface ProxyAcceptorOptions {
  /** The server connections are handed to once their header is read (http or https). */
  readonly target: NetServer;
  readonly limits: ConnectionLimits;
  readonly addresses: ClientAddresses;
  /** Longest wait for the header, ms (the headers timeout). */
  readonly headerTimeoutMs: number;
}

/** A listening acceptor and the connections still sending their header (cut at shutdown). */
export interface ProxyAcceptor {
  readonly server: NetServer;
  readonly pending: Set<Socket>;
}

/** Creates the acceptor (not yet listening). */
export function createProxyAcceptor(options: ProxyAcceptorOptions): ProxyAcceptor {
  const pending = new Set<Socket>();
  const server = createServer({ pauseOnConnect: true }, (socket) => {
    socket.on("error", () => socket.destroy());
    if (!options.limits.admit(socket)) return;
    if (!options.addresses.trusts(peerAddressOf(socket))) {
      options.limits.refuse(socket, "proxy_protocol");
      return;
    }
    pending.add(socket);
    socket.once("close", () => pending.delete(socket));
    readHeader(socket, options, () => pending.delete(socket));
  });
  return { server, pending };
}

function readHeader(socket: Socket, options: ProxyAcceptorOptions, done: () => void): void {
  let buffered = Buffer.alloc(0);
  const timer = setTimeout(
    () => options.limits.refuse(socket, "proxy_protocol"),
    options.headerTimeoutMs,
  );
  const onReadable = () => {
    for (let chunk = socket.read(); chunk !== null; chunk = socket.read()) {
      buffered = Buffer.concat([buffered, chunk as Buffer]);
    }
    const header = parseProxyHeader(buffered);
    if (header.kind === "incomplete") return;
    clearTimeout(timer);
    socket.off("readable", onReadable);
    done();
    if (header.kind === "invalid") {
      options.limits.refuse(socket, "proxy_protocol");
      return;
    }
    // LOCAL (a health check) or an unknown family: the proxy speaks for itself.
    const client = header.source ?? peerAddressOf(socket);
    setProxiedAddress(socket, client);
    if (!options.addresses.trusts(client) && !options.limits.admitFrom(socket, client)) return;
    const rest = buffered.subarray(header.length);
    if (rest.length > 0) socket.unshift(rest);
    options.target.emit("connection", socket);
  };
  socket.on("readable", onReadable);
  socket.once("close", () => clearTimeout(timer));
}
