// Shared handshake plumbing: waiting for the next message of a wanted type with a deadline, and
// the TLS channel binding of a socket (RFC 9266), identical on both ends.

import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import { createError, isErrorCode, type SynclineError } from "../protocol/errors.js";
import type { MessageOf, WireMessage } from "../protocol/wire-messages.js";
import type { WireConnection } from "./wire-connection.js";

/** Resolves with the next message from the peer, which must be of `type`. */
export function nextMessage<T extends WireMessage["type"]>(
  connection: WireConnection,
  type: T,
  deadline: number,
): Promise<MessageOf<T>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () =>
        finish(createError("ERR_WIRE_TIMEOUT", `wire: no ${type} before the handshake deadline`)),
      Math.max(0, deadline - Date.now()),
    );
    // An ERROR from the peer is followed by its close; both together say what went wrong.
    let refusal: { code: string; message: string } | undefined;
    const offMessage = connection.on("message", (message) => {
      if (message.type === type) return finish(undefined, message as MessageOf<T>);
      if (message.type === "error") {
        refusal = { code: message.code, message: message.message };
        return;
      }
      finish(
        createError(
          "ERR_WIRE_MESSAGE",
          `wire: expected ${type} during the handshake, got ${message.type}`,
        ),
      );
    });
    const offClose = connection.on("close", (code, reason, error) => {
      if (refusal) {
        const known = isErrorCode(refusal.code) ? refusal.code : "ERR_WIRE_REFUSED";
        return finish(
          createError(known, `wire: the peer refused: ${refusal.message}`, { closeCode: code }),
        );
      }
      finish(
        error ??
          createError(
            "ERR_CONNECTION_CLOSED",
            `wire: connection closed during the handshake (${code} ${reason})`.trim(),
            {
              closeCode: code,
            },
          ),
      );
    });
    function finish(error: SynclineError | undefined, message?: MessageOf<T>): void {
      clearTimeout(timer);
      offMessage();
      offClose();
      if (error) reject(error);
      else resolve(message as MessageOf<T>);
    }
  });
}

/** The RFC 9266 channel binding of a TLS socket; empty for plain TCP and Unix sockets. */
export function channelBindingOf(socket: Socket | undefined): Uint8Array {
  const tls = socket as TLSSocket | undefined;
  if (!tls || !("encrypted" in tls) || !tls.encrypted) return new Uint8Array(0);
  // RFC 9266: label "EXPORTER-Channel-Binding", an empty (zero-length) context, 32 bytes.
  return tls.exportKeyingMaterial(32, "EXPORTER-Channel-Binding", Buffer.alloc(0));
}
