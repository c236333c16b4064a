// Adapts a `ws` WebSocket to the fan-out's ViewerSocket: a batch's prebuilt frames are written
// as they are, in one write, to the underlying TCP socket (no per-viewer framing or copy).

import type { Duplex } from "node:stream";
import type { WebSocket } from "ws";
import type { ViewerSocket } from "./viewer-fanout.js";

const textFrame = { binary: false, compress: false, fin: true } as const;

/**
 * A ViewerSocket over `socket`, whose TCP, TLS or Unix socket is `raw` (the upgrade request's
 * socket, which ws took over).
 */
export function wsViewerSocket(socket: WebSocket, raw: Duplex): ViewerSocket {
  return {
    send(batch) {
      if (socket.readyState !== socket.OPEN) return;
      // The prebuilt bytes go straight to the TCP socket: the same Buffer for every viewer.
      // Safe beside ws's own writes (pings, close) because ws's sender only queues while
      // compressing, and permessage-deflate is never negotiated on our endpoints.
      if (!raw.destroyed) raw.write(batch.wire);
      else for (const frame of batch.frames) socket.send(frame.text, textFrame);
    },
    bufferedAmount: () => socket.bufferedAmount,
    close(code, reason) {
      if (socket.readyState === socket.OPEN || socket.readyState === socket.CONNECTING) {
        socket.close(code, reason);
      }
    },
  };
}
