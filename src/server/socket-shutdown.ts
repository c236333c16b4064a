// Closes WebSocket connections with a close code and waits for their close handshakes, cutting
// the ones that do not answer within the grace period.

import { WebSocket } from "ws";

/** Closes every socket with `code`/`reason`; resolves when all are closed (terminated after `graceMs`). */
export async function closeSockets(
  sockets: readonly WebSocket[],
  code: number,
  reason: string,
  graceMs: number,
): Promise<void> {
  await Promise.all(
    sockets.map(
      (socket) =>
        new Promise<void>((resolve) => {
          if (socket.readyState === WebSocket.CLOSED) return resolve();
          const timer = setTimeout(() => socket.terminate(), graceMs);
          socket.once("close", () => {
            clearTimeout(timer);
            resolve();
          });
          socket.close(code, reason);
        }),
    ),
  );
}
