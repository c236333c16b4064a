// Binds the stream state machines to a wire connection: a sender pumped frame by frame within
// its credit until the receiver ACKs, and a receiver that answers OPEN with RESUME and CREDIT,
// writes DATA, grants credit back in batches and ACKs a verified END.

import {
  createError,
  describeError,
  isSynclineError,
  type SynclineError,
} from "../protocol/errors.js";
import type { AckMessage, WireMessage } from "../protocol/wire-messages.js";
import { createDeferred } from "../util/deferred.js";
import type { StreamReceiver } from "./stream/stream-receiver.js";
import type { StreamSender } from "./stream/stream-sender.js";
import type { WireConnection } from "./wire-connection.js";

/** Calls `handler` for the messages of one stream until the returned function is called. */
function onStream(
  connection: WireConnection,
  streamId: number,
  handler: (message: WireMessage) => void,
): () => void {
  return connection.on("message", (message) => {
    if ("streamId" in message && message.streamId === streamId) handler(message);
  });
}

/**
 * Tells the peer why this end gave up a stream while the connection stays open. A stream error
 * goes as it is; any other failure (the publisher's upload a relay was reading from ended with a
 * wire error, a bug in a handler) as ERR_STREAM_CANCELLED naming it — without a CANCEL the peer
 * would wait for the rest of the stream for as long as the connection lives.
 */
function cancelOnStreamError(connection: WireConnection, streamId: number, error: unknown): void {
  if (!connection.isOpen) return;
  const own = isSynclineError(error) && error.code.startsWith("ERR_STREAM") ? error : undefined;
  const code = own?.code ?? "ERR_STREAM_CANCELLED";
  const message = own?.message ?? `stream cancelled: ${describeError(error)}`;
  connection.send({ type: "cancel", streamId, code, message: message.slice(0, 1000) });
}

function closedError(
  code: number,
  reason: string,
  error: SynclineError | undefined,
): SynclineError {
  return (
    error ??
    createError("ERR_CONNECTION_CLOSED", `stream: connection closed (${code} ${reason})`.trim(), {
      closeCode: code,
    })
  );
}

/**
 * Sends a payload on `streamId` (its OPEN already sent): frames within credit, END, then waits for
 * the ACK. Resolves with the acknowledged SHA-256; rejects on CANCEL, a peer ERROR or a close.
 */
export async function runSender(
  connection: WireConnection,
  streamId: number,
  sender: StreamSender,
): Promise<Uint8Array> {
  return (await runSenderForAck(connection, streamId, sender)).sha256;
}

/** Options of `runSenderForAck`. */
export interface SenderOptions {
  /**
   * Aborting it gives the stream up as a CANCEL carrying the abort reason (a SynclineError's
   * code, else ERR_STREAM_CANCELLED).
   */
  readonly signal?: AbortSignal;
  /**
   * The OPEN was eager (its bytes taken from `connection.eagerSendCredit`, see takeEager): they
   * are given back once the receiver has answered for the stream (ACK, CANCEL or ERROR) or the
   * connection closed; not when this end gave up first, as the receiver may still hold them.
   */
  readonly eager?: boolean;
}

/**
 * `runSender`, resolving with the whole ACK (a server's ACK to a publisher says how many
 * subscribers got the payload and whether it is kept).
 */
export async function runSenderForAck(
  connection: WireConnection,
  streamId: number,
  sender: StreamSender,
  options: SenderOptions = {},
): Promise<AckMessage> {
  const { signal } = options;
  let wake = createDeferred<void>();
  const done = createDeferred<AckMessage>();
  // The loop below may leave through a failed send or read instead of awaiting `done`, e.g. a
  // close while a DATA frame waits for buffer room or a read waits for a publisher's bytes. The
  // rejection of `done` then has no reader, and an unhandled rejection ends the whole process
  // (the server!). The loop's own error is what the caller gets; this only marks `done` read.
  done.promise.catch(() => {});
  /** Why the stream ended early (a close, CANCEL, ERROR or a bad message), once it did. */
  let ended: { reason: unknown } | undefined;
  const fail = (error: unknown) => {
    ended ??= { reason: error };
    if (sender.state === "open" || sender.state === "ended") sender.cancel(String(error));
    done.reject(error);
    wake.resolve();
  };
  /** The receiver answered for the stream (ACK, CANCEL, ERROR) or the connection closed. */
  let answered = false;
  const offMessages = onStream(connection, streamId, (message) => {
    if (message.type === "ack" || message.type === "cancel" || message.type === "error") {
      answered = true;
    }
    try {
      handleSenderMessage(message, sender, done, fail);
    } catch (error) {
      fail(error);
    }
    wake.resolve();
  });
  const offClose = connection.on("close", (code, reason, error) => {
    answered = true;
    fail(closedError(code, reason, error));
  });
  const onAbort = () => fail(signal?.reason);
  if (signal?.aborted) onAbort();
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    while (sender.state === "open" && !done.settled) {
      const frame = await sender.nextFrame();
      if (frame === null) {
        await wake.promise;
        wake = createDeferred();
      } else if (frame.kind === "data") {
        await connection.sendData(streamId, frame.bytes, frame.fin);
      } else {
        connection.send({ type: "end", streamId, size: frame.size, sha256: frame.sha256 });
      }
    }
    return await done.promise;
  } catch (caught) {
    // When the stream ended (a close, CANCEL or ERROR) during a read, the read then fails with
    // the sender's own cancellation; report why the stream ended, so a close stays a close that
    // the caller resumes after rather than a cancelled transfer.
    const error = ended ? ended.reason : caught;
    cancelOnStreamError(connection, streamId, error);
    throw error;
  } finally {
    signal?.removeEventListener("abort", onAbort);
    offMessages();
    offClose();
    // Only then has the receiver let go of them too: released any earlier (this end failing a
    // read and cancelling), a next eager OPEN could reach a receiver still counting them.
    if (options.eager && answered) connection.eagerSendCredit.release(sender.size);
  }
}

function handleSenderMessage(
  message: WireMessage,
  sender: StreamSender,
  done: ReturnType<typeof createDeferred<AckMessage>>,
  fail: (error: unknown) => void,
): void {
  if (message.type === "credit") {
    sender.grant(message.bytes);
  } else if (message.type === "resume") {
    sender.resumeFrom(message.offset);
  } else if (message.type === "ack") {
    sender.onAck(message.sha256);
    done.resolve(message);
  } else if (message.type === "cancel" || message.type === "error") {
    const why = `${message.message} (${message.code})`;
    fail(
      createError("ERR_STREAM_CANCELLED", `stream ${sender.transferId}: peer cancelled: ${why}`),
    );
  } else {
    const what = `stream ${sender.transferId}: unexpected ${message.type} from the receiver`;
    fail(createError("ERR_STREAM_PROTOCOL", what));
  }
}

/** What the receiving end adds to its ACK, and when (`runReceiver`'s options). */
export interface ReceiverOptions {
  /**
   * Called with the verified digest before the ACK goes out; the ACK waits for it and carries
   * what it resolves with (a server tells its publisher `delivered` and `kept`). A rejection is
   * sent as CANCEL instead of the ACK.
   */
  readonly acknowledge?: (sha256: Uint8Array) => Promise<Pick<AckMessage, "delivered" | "kept">>;
  /**
   * Messages of this stream that arrived before the receiver was ready (the server looked the
   * payload up first), handled in order before any later one.
   */
  readonly earlier?: readonly WireMessage[];
  /**
   * The OPEN was eager (its bytes taken from `connection.eagerReceiveCredit` with
   * acceptEagerOpen, the receiver built with `eager`): no RESUME is sent, and the bytes are given
   * back once the stream ends here, whichever way.
   */
  readonly eager?: boolean;
}

/**
 * Receives a payload on `streamId` (its OPEN just arrived): RESUME with what is held, CREDIT,
 * then DATA written through the receiver and credit granted back; ACKs a verified END. Resolves
 * with the SHA-256; rejects (after sending CANCEL) on a bad stream, or on CANCEL or a close.
 */
export async function runReceiver(
  connection: WireConnection,
  streamId: number,
  receiver: StreamReceiver,
  options: ReceiverOptions = {},
): Promise<Uint8Array> {
  const done = createDeferred<Uint8Array>();
  const handle = (message: WireMessage) => {
    void handleReceiverMessage(connection, streamId, receiver, message).then(
      (digest) => {
        if (digest) done.resolve(digest);
      },
      (error: unknown) => done.reject(error),
    );
  };
  const offMessages = onStream(connection, streamId, handle);
  const offClose = connection.on("close", (code, reason, error) =>
    done.reject(closedError(code, reason, error)),
  );
  // An eager stream's sender sent everything with its OPEN: nothing to resume or grant.
  if (!options.eager) {
    connection.send({
      type: "resume",
      streamId,
      transferId: receiver.transferId,
      offset: receiver.offset,
    });
  }
  const initial = receiver.initialGrant();
  if (initial > 0) connection.send({ type: "credit", streamId, bytes: initial });
  for (const message of options.earlier ?? []) handle(message);
  try {
    const digest = await done.promise;
    const extra = options.acknowledge ? await options.acknowledge(digest) : {};
    connection.send({
      type: "ack",
      streamId,
      transferId: receiver.transferId,
      sha256: digest,
      ...extra,
    });
    return digest;
  } catch (error) {
    cancelOnStreamError(connection, streamId, error);
    throw error;
  } finally {
    offMessages();
    offClose();
    if (options.eager) connection.eagerReceiveCredit.release(receiver.size);
  }
}

async function handleReceiverMessage(
  connection: WireConnection,
  streamId: number,
  receiver: StreamReceiver,
  message: WireMessage,
): Promise<Uint8Array | undefined> {
  switch (message.type) {
    case "data": {
      const grant = await receiver.onData(message.bytes, message.fin);
      if (grant > 0) connection.send({ type: "credit", streamId, bytes: grant });
      return undefined;
    }
    case "end":
      return receiver.onEnd(message.size, message.sha256);
    case "cancel":
    case "error":
      throw createError(
        "ERR_STREAM_CANCELLED",
        `stream ${receiver.transferId}: sender cancelled: ${message.message} (${message.code})`,
      );
    default:
      throw createError(
        "ERR_STREAM_PROTOCOL",
        `stream ${receiver.transferId}: unexpected ${message.type} from the sender`,
      );
  }
}
