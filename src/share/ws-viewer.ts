// Adapts a `ws` WebSocket to the fan-out's ViewerSocket: shared Buffers sent as text frames
// without per-viewer copies, and corking on the underlying TCP socket.

import type { Duplex } from "node:stream";
import type { WebSocket } from "ws";
import type { ViewerSocket } from "./viewer-fanout.js";

const textFrame = { binary: false, compress: false, fin: true } as const;

/** A ViewerSocket over `socket`. */
export function wsViewerSocket(socket: WebSocket): ViewerSocket {
  // `ws` keeps the TCP socket in `_socket`; corking it batches the frames of a broadcast burst.
  const raw = (socket as unknown as { _socket?: Duplex })._socket;
  return {
    send(frame) {
      if (socket.readyState === socket.OPEN) socket.send(frame, textFrame);
    },
    bufferedAmount: () => socket.bufferedAmount,
    cork() {
      if (raw && !raw.destroyed) raw.cork();
    },
    uncork() {
      if (raw && raw.writableCorked > 0) raw.uncork();
    },
    close(code, reason) {
      if (socket.readyState === socket.OPEN || socket.readyState === socket.CONNECTING) {
        socket.close(code, reason);
      }
    },
  };
}
