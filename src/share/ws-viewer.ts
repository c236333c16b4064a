// Adapts a `ws` WebSocket to the fan-out's ViewerSocket: prebuilt frames are written as they are,
// in one write (a corked writev for several parts), to the underlying TCP socket — no per-viewer
// framing or copy.

import type { Duplex } from "node:stream";
import type { WebSocket } from "ws";
import type { ViewerSocket } from "./viewer-fanout.js";

/**
 * A ViewerSocket over `socket`, whose TCP, TLS or Unix socket is `raw` (the upgrade request's
 * socket, which ws took over).
 */
export function wsViewerSocket(socket: WebSocket, raw: Duplex): ViewerSocket {
  const open = () => socket.readyState === socket.OPEN && !raw.destroyed;
  return {
    write(parts) {
      if (!open()) return false;
      // The prebuilt bytes go straight to the TCP socket: the same Buffers for every viewer.
      // Safe beside ws's own writes (pings, close) because every write here is of whole frames
      // and ws's sender only queues while compressing, which our endpoints never negotiate.
      if (parts.length === 1) raw.write(parts[0] as Uint8Array);
      else {
        raw.cork();
        for (const part of parts) raw.write(part);
        raw.uncork();
      }
      return true;
    },
    needsDrain: () => raw.writableNeedDrain,
    drained: () =>
      new Promise<boolean>((resolve) => {
        if (!open()) return resolve(false);
        if (!raw.writableNeedDrain) return resolve(true);
        const done = (drained: boolean) => () => {
          raw.off("drain", onDrain);
          raw.off("close", onClose);
          resolve(drained && open());
        };
        const onDrain = done(true);
        const onClose = done(false);
        raw.once("drain", onDrain);
        raw.once("close", onClose);
      }),
    bufferedAmount: () => socket.bufferedAmount,
    close(code, reason) {
      if (socket.readyState === socket.OPEN || socket.readyState === socket.CONNECTING) {
        socket.close(code, reason);
      }
    },
  };
}
