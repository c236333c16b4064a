// Keepalive pings for server WebSockets: a peer that vanished without closing (a sleeping
// laptop, a dropped NAT mapping) never sends FIN, so only a missed pong frees its socket.

import type { WebSocket } from "ws";

/** The sockets one endpoint keeps alive. */
export interface WsKeepalive {
  /** Starts pinging `socket`; its pongs keep it. */
  add(socket: WebSocket): void;
  /** Stops pinging `socket` (call on close). */
  delete(socket: WebSocket): void;
  /** Stops the pings (on shutdown). */
  stop(): void;
}

/**
 * Every `intervalMs`, pings each socket and terminates one that did not answer the previous
 * ping, so a dead peer is gone within two intervals.
 */
export function createWsKeepalive(intervalMs: number): WsKeepalive {
  const alive = new Map<WebSocket, boolean>();
  const timer = setInterval(() => {
    for (const [socket, answered] of alive) {
      if (!answered) {
        socket.terminate();
        continue;
      }
      alive.set(socket, false);
      socket.ping();
    }
  }, intervalMs);
  timer.unref();
  return {
    add(socket) {
      alive.set(socket, true);
      socket.on("pong", () => {
        // A pong arriving after close must not bring the socket back.
        if (alive.has(socket)) alive.set(socket, true);
      });
    },
    delete(socket) {
      alive.delete(socket);
    },
    stop() {
      clearInterval(timer);
    },
  };
}
