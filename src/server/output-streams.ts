// The server's connections as the output budget sees them: a WebSocket (what ws has queued for
// it, what its socket handed to the OS so far, and a close with the endpoint's "slow reader"
// code) and an HTTP response (aborted, since a status was already sent).

import type { ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { WebSocket } from "ws";
import type { OutputBudget, TrackedOutput } from "./output-budget.js";

/** How long a WebSocket cut for not reading gets to take its close frame before it is dropped. */
const closeWaitMs = 1000;

/**
 * Tracks `socket` (whose transport is `raw`, the upgrade's socket) until it closes; a cut closes
 * it with `closeCode` and drops it when even the close frame is not read.
 */
export function trackWebSocket(
  budget: OutputBudget,
  endpoint: string,
  socket: WebSocket,
  raw: Socket,
  closeCode: number,
): TrackedOutput {
  const tracked = budget.track({
    endpoint,
    buffered: () => socket.bufferedAmount,
    progress: () => takenBy(raw),
    cut: (reason) => {
      socket.close(closeCode, `slow reader: ${reason}`.slice(0, 120));
      setTimeout(() => socket.terminate(), closeWaitMs).unref();
    },
  });
  socket.once("close", () => tracked.untrack());
  return tracked;
}

/**
 * Tracks an HTTP response until its bytes have left the socket (a response is "finished" once
 * handed to the socket, which may still hold most of it); a cut drops the connection, since a
 * status line was already sent.
 */
export function trackResponse(budget: OutputBudget, response: ServerResponse): TrackedOutput {
  const socket = response.socket;
  const tracked = budget.track({
    endpoint: "http",
    buffered: () =>
      (socket?.writableLength ?? 0) + (response.writableFinished ? 0 : response.writableLength),
    progress: () => (socket == null ? 0 : takenBy(socket)),
    cut: () => (socket ?? response).destroy(),
  });
  response.once("close", () => {
    if (socket == null || socket.destroyed || socket.writableLength === 0) {
      tracked.untrack();
      return;
    }
    const done = () => {
      socket.off("drain", done);
      socket.off("close", done);
      tracked.untrack();
    };
    socket.once("drain", done);
    socket.once("close", done);
  });
  return tracked;
}

/**
 * A figure that moves whenever the operating system takes bytes from `socket`: completed writes
 * (`bytesWritten - writableLength`), and within a write still in flight the part libuv has handed
 * over (its handle's `writeQueueSize` shrinks). No public API tells the second; without it one
 * large message read slowly but steadily would look stalled until it is all sent.
 */
function takenBy(socket: Socket): number {
  const handle = (socket as unknown as { _handle?: { writeQueueSize?: number } | null })._handle;
  return socket.bytesWritten - socket.writableLength - (handle?.writeQueueSize ?? 0);
}
