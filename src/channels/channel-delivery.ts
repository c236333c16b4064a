// Streams one publication to one subscriber, reading its bytes as they arrive (from memory, or
// from the kept copy for bytes memory let go), at the subscriber's own pace.

import { describeError } from "../protocol/errors.js";
import { frameHeaderBytes } from "../protocol/wire-frame.js";
import { takeEager } from "../transport/stream/open-credit.js";
import { StreamSender } from "../transport/stream/stream-sender.js";
import { runSenderForAck } from "../transport/stream-link.js";
import type { WireConnection } from "../transport/wire-connection.js";
import type { WireLogger } from "../transport/wire-server.js";
import type { ChannelObserver } from "./channel-hub-options.js";
import type { Publication } from "./publication.js";

/**
 * The DATA chunk size of deliveries that copy the payload into their frames: at least the
 * publisher's (1 MiB by default, smaller from older clients or when asked), so the server writes
 * (and the subscriber handles) few frames; capped by the connection's frame limit. The one
 * delivery that takes the publisher's frames (the first to start while the payload is still
 * arriving) uses the publisher's chunk
 * size instead, so each of its chunks is one of the publisher's frames, sent on as it arrived with
 * its header rewritten: on a relay of one big payload to one subscriber, that copy was the
 * server's largest cost after the kernel's. (When the publisher's chunks are this big already, a
 * copying delivery may read whole frames and take some first; taking is one-shot, so that is
 * only a different delivery saving the copy.) Frames sent on keep the publisher's socket reads
 * alive until the subscriber's socket has flushed them: at most its 4 MiB buffer cap.
 */
const copiedChunkBytes = 1024 * 1024;

/** Starts streaming `publication` to `connection` unless it cannot. */
export function deliver(
  connection: WireConnection,
  publication: Publication,
  logger: WireLogger,
  observer: ChannelObserver,
): void {
  if (!connection.isOpen) return;
  const { meta, buffer } = publication;
  // A relayed payload whose beginning already left memory cannot be delivered whole.
  if (!buffer.canReadFromStart()) return;
  const reader = buffer.addReader(0);
  const stop = new AbortController();
  reader.onEvicted = (error) => stop.abort(error);
  const streamId = connection.allocateStreamId();
  const chunkSize = publication.takeFrames()
    ? meta.chunkSize
    : Math.max(
        meta.chunkSize,
        Math.min(copiedChunkBytes, connection.maxFrameBytes - frameHeaderBytes),
      );
  // A small payload goes whole with its OPEN when the subscriber offered room for it.
  const eager = takeEager(connection.eagerSendCredit, meta.size, chunkSize);
  connection.send({
    type: "open",
    streamId,
    transferId: meta.transferId,
    channel: meta.channel,
    size: meta.size,
    origin: meta.origin,
    ...(meta.name === undefined ? {} : { name: meta.name }),
    chunkSize,
    ...(eager ? { eager } : {}),
  });
  const sender = new StreamSender({
    transferId: meta.transferId,
    size: meta.size,
    chunkSize,
    ...(eager ? { initialCredit: meta.size } : {}),
    // One of the publisher's frames when the read is exactly one (sent on as it is, if no
    // other delivery took it), else a view or a copy straight into the outgoing frame.
    readChunk: (offset, length) =>
      buffer.read(offset, length, reader, (bytes) => connection.dataPayload(bytes)),
    // The publisher's digest (checked by the upload when kept, else by each subscriber): the
    // server never hashes a delivery.
    knownDigest: () => publication.digest.promise,
  });
  observer.transfer?.("delivery", "started");
  const run = runSenderForAck(connection, streamId, sender, { signal: stop.signal, eager }).then(
    () => true,
    (error: unknown) => {
      logger.info(
        { channel: meta.channel, transferId: meta.transferId, reason: describeError(error) },
        "channel delivery ended early",
      );
      return false;
    },
  );
  publication.track(
    run.then((ok) => {
      buffer.removeReader(reader);
      observer.transfer?.("delivery", ok ? "completed" : "failed");
      if (reader.evicted) observer.slowReader?.();
      return ok;
    }),
  );
}
