// Keepalive pings for server WebSockets: a peer that vanished without closing (a sleeping
// laptop, a dropped NAT mapping) never sends FIN, so only its silence frees its socket.

import type { WebSocket } from "ws";

/** The sockets one endpoint keeps alive. */
export interface WsKeepalive {
  /** Starts pinging `socket`; its pongs and messages keep it. */
  add(socket: WebSocket): void;
  /** Stops pinging `socket` (call on close). */
  delete(socket: WebSocket): void;
  /** Stops the pings (on shutdown). */
  stop(): void;
}

/** Ping periods a socket may stay silent before it is terminated. */
export const silentPeriodsAllowed = 2;

/**
 * Every `intervalMs`, pings each socket, and terminates one from which nothing (a pong or a
 * message) arrived for `silentPeriodsAllowed` whole periods: a dead peer is gone within three
 * periods. One missed pong is not enough, because a live client whose event loop is busy (an
 * automerge-repo client finding thousands of documents blocks it for seconds) answers late,
 * and cutting it would fail everything it was waiting for.
 */
export function createWsKeepalive(intervalMs: number): WsKeepalive {
  /** Per socket: periods in a row with nothing heard, and whether anything was heard in this one. */
  const sockets = new Map<WebSocket, { silent: number; heard: boolean }>();
  const timer = setInterval(() => {
    for (const [socket, state] of sockets) {
      state.silent = state.heard ? 0 : state.silent + 1;
      state.heard = false;
      if (state.silent >= silentPeriodsAllowed) {
        socket.terminate();
        continue;
      }
      socket.ping();
    }
  }, intervalMs);
  timer.unref();
  return {
    add(socket) {
      const state = { silent: 0, heard: true };
      sockets.set(socket, state);
      // After close the state is no longer in the map: a late pong changes nothing.
      const heard = () => {
        state.heard = true;
      };
      socket.on("pong", heard);
      socket.on("message", heard);
    },
    delete(socket) {
      sockets.delete(socket);
    },
    stop() {
      clearInterval(timer);
    },
  };
}
