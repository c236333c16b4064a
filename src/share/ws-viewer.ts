// Adapts a `ws` WebSocket to the fan-out's ViewerSocket: prebuilt text frames written as they are
// to the underlying TCP socket (no per-viewer framing or copy), and corking on that socket.

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
      if (socket.readyState !== socket.OPEN) return;
      // The prebuilt frame goes straight to the TCP socket: the same bytes for every viewer.
      // Safe beside ws's own writes (pings, close) because ws's sender only queues while
      // compressing, and permessage-deflate is never negotiated on our endpoints.
      if (raw && !raw.destroyed) raw.write(frame.wire);
      else socket.send(frame.text, textFrame);
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
