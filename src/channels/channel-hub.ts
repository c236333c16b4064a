// Named pub/sub among authenticated peers, on the server: publishers stream a payload in on an
// OPEN, the hub streams it out to each subscriber at that subscriber's pace, keeps the latest
// payload of each channel (when small enough) for `recv` without --follow, and lets a publisher
// that lost its connection resume where it stopped.

import { createError, describeError, isSynclineError } from "../protocol/errors.js";
import { frameHeaderBytes } from "../protocol/wire-frame.js";
import type { OpenMessage, SubscribeMessage } from "../protocol/wire-messages.js";
import { StreamSender } from "../transport/stream/stream-sender.js";
import { runReceiver, runSender } from "../transport/stream-link.js";
import type { WireConnection } from "../transport/wire-connection.js";
import type { WireLogger, WireSession } from "../transport/wire-server.js";
import { parseChannelName } from "./channel-name.js";
import { Publication } from "./publication.js";

/**
 * The DATA chunk size of deliveries that copy the payload into their frames: bigger than a
 * publisher's usual 64 KiB, so the server writes (and the subscriber handles) a sixteenth of the
 * frames; capped by the connection's frame limit. The one delivery that takes the publisher's
 * frames (the first to start while the payload is still arriving) uses the publisher's chunk
 * size instead, so each of its chunks is one of the publisher's frames, sent on as it arrived with
 * its header rewritten: on a relay of one big payload to one subscriber, that copy was the
 * server's largest cost after the kernel's. (When the publisher's chunks are this big already, a
 * copying delivery may read whole frames and take some first; taking is one-shot, so that is
 * only a different delivery saving the copy.) Frames sent on keep the publisher's socket reads
 * alive until the subscriber's socket has flushed them: at most its 4 MiB buffer cap.
 */
const copiedChunkBytes = 1024 * 1024;

/** Options of the hub. */
export interface ChannelHubOptions {
  /** Largest payload kept as a channel's latest, bytes. Default 64 MiB. */
  readonly retainBytes?: number;
  /** Most bytes retained over all channels together. Default 4 × retainBytes. */
  readonly retainTotalBytes?: number;
  /** How long an interrupted upload waits for its publisher to resume, ms. Default 10 min. */
  readonly resumeTtlMs?: number;
  readonly logger: WireLogger;
}

interface Channel {
  latest: Publication | undefined;
  readonly subscribers: Map<WireConnection, { follow: boolean }>;
}

/** A publisher's stream in progress; `settled` resolves once it is done or suspended. */
interface Upload {
  readonly connection: WireConnection;
  settled: Promise<void>;
}

/** The server's channels; `attach` each authenticated session. */
export class ChannelHub {
  readonly #channels = new Map<string, Channel>();
  /** Uploads whose publisher disconnected, by publisher and transfer id, awaiting a resume. */
  readonly #interrupted = new Map<string, { publication: Publication; timer: NodeJS.Timeout }>();
  /** Uploads being received, by publisher and transfer id; `settled` once wound down. */
  readonly #uploading = new Map<string, Upload>();
  readonly #retainBytes: number;
  readonly #retainTotal: number;
  readonly #resumeTtlMs: number;
  readonly #logger: WireLogger;

  constructor(options: ChannelHubOptions) {
    this.#retainBytes = options.retainBytes ?? 64 * 1024 * 1024;
    this.#retainTotal = options.retainTotalBytes ?? 4 * this.#retainBytes;
    this.#resumeTtlMs = options.resumeTtlMs ?? 10 * 60 * 1000;
    this.#logger = options.logger;
  }

  /** Bytes held by retained latest payloads. */
  get retainedBytes(): number {
    let total = 0;
    for (const channel of this.#channels.values()) total += channel.latest?.buffer.heldBytes ?? 0;
    return total;
  }

  /** Serves one authenticated connection until it closes. */
  attach(session: WireSession): void {
    const { connection } = session;
    const inbound = new Set<number>();
    connection.on("message", (message) => {
      try {
        if (message.type === "subscribe") this.#subscribe(connection, message);
        else if (message.type === "unsubscribe")
          this.#channel(message.channel).subscribers.delete(connection);
        else if (message.type === "open") this.#publish(session, message, inbound);
        else if (
          "streamId" in message &&
          message.streamId % 2 === 1 &&
          !inbound.has(message.streamId)
        ) {
          throw createError(
            "ERR_WIRE_MESSAGE",
            `wire: ${message.type} for unknown stream ${message.streamId}`,
          );
        }
      } catch (error) {
        failConnection(connection, error);
      }
    });
    connection.on("close", () => {
      for (const channel of this.#channels.values()) channel.subscribers.delete(connection);
    });
  }

  #channel(name: string): Channel {
    const valid = parseChannelName(name);
    let channel = this.#channels.get(valid);
    if (!channel) {
      channel = { latest: undefined, subscribers: new Map() };
      this.#channels.set(valid, channel);
    }
    return channel;
  }

  #subscribe(connection: WireConnection, message: SubscribeMessage): void {
    const channel = this.#channel(message.channel);
    if (message.follow) channel.subscribers.set(connection, { follow: true });
    if (message.latest && channel.latest) this.#deliver(connection, channel.latest);
  }

  #publish(session: WireSession, open: OpenMessage, inbound: Set<number>): void {
    const { connection } = session;
    if (open.streamId % 2 !== 1 || inbound.has(open.streamId)) {
      throw createError(
        "ERR_WIRE_MESSAGE",
        `wire: OPEN on stream ${open.streamId} (client streams are odd and new)`,
      );
    }
    const channel = this.#channel(open.channel);
    const key = `${session.peerId}/${open.transferId}`;
    const running = this.#uploading.get(key);
    if (running) {
      this.#supersede(session, open, inbound, running);
      return;
    }
    const resumed = this.#interrupted.get(key);
    let publication: Publication;
    if (resumed && resumed.publication.meta.size === open.size) {
      clearTimeout(resumed.timer);
      this.#interrupted.delete(key);
      publication = resumed.publication;
    } else {
      publication = this.#start(channel, open, session.peerId);
    }
    inbound.add(open.streamId);
    const receiver = publication.createReceiver();
    const upload: Upload = { connection, settled: Promise.resolve() };
    upload.settled = runReceiver(connection, open.streamId, receiver)
      .then(
        (sha256) => {
          inbound.delete(open.streamId);
          publication.completed(sha256);
          this.#logger.info(
            { channel: open.channel, transferId: open.transferId, bytes: open.size },
            "channel payload published",
          );
        },
        (error: unknown) => {
          inbound.delete(open.streamId);
          return this.#interrupt(key, publication, receiver, error);
        },
      )
      .then(() => {
        // Only once the upload is suspended (or done), so a resume waiting on it finds it there.
        if (this.#uploading.get(key) === upload) this.#uploading.delete(key);
      });
    this.#uploading.set(key, upload);
  }

  /**
   * An OPEN resuming an upload whose old stream is still running: the publisher reconnected
   * before we noticed its old connection die (its deadline passed before ours, or a laptop woke
   * up). A client holds one connection at a time and resumes only after losing it, so that
   * connection is abandoned: cut it, let its stream wind down into a suspended upload, then take
   * this OPEN as the resume. Without this the upload would start over from byte 0.
   */
  #supersede(session: WireSession, open: OpenMessage, inbound: Set<number>, running: Upload): void {
    const { connection } = session;
    if (running.connection === connection) {
      throw createError(
        "ERR_WIRE_MESSAGE",
        `wire: OPEN for transfer ${open.transferId}, already being uploaded on this connection`,
      );
    }
    this.#logger.info(
      { channel: open.channel, transferId: open.transferId },
      "channel publisher resumed on a new connection; cutting the old one",
    );
    inbound.add(open.streamId); // the stream is ours while we wait
    running.connection.terminate();
    void running.settled.then(() => {
      inbound.delete(open.streamId);
      if (!connection.isOpen) return;
      try {
        this.#publish(session, open, inbound);
      } catch (error) {
        failConnection(connection, error);
      }
    });
  }

  /** A new payload: becomes the channel's latest (if it fits) and goes to every follower. */
  #start(channel: Channel, open: OpenMessage, publisher: string): Publication {
    const othersRetained = this.retainedBytes - (channel.latest?.buffer.heldBytes ?? 0);
    const retained =
      open.size <= this.#retainBytes && othersRetained + open.size <= this.#retainTotal;
    const publication = new Publication(
      {
        transferId: open.transferId,
        channel: open.channel,
        size: open.size,
        origin: open.origin,
        name: open.name,
        chunkSize: open.chunkSize,
        publisher,
      },
      retained,
    );
    // A payload too big to keep leaves the channel without a latest: an older one would mislead.
    channel.latest = retained ? publication : undefined;
    for (const subscriber of channel.subscribers.keys()) this.#deliver(subscriber, publication);
    return publication;
  }

  async #interrupt(
    key: string,
    publication: Publication,
    receiver: import("../transport/stream/stream-receiver.js").StreamReceiver,
    error: unknown,
  ): Promise<void> {
    const resumable =
      isSynclineError(error) &&
      error.code === "ERR_CONNECTION_CLOSED" &&
      (await publication.suspend(receiver));
    if (!resumable) {
      publication.failed(error instanceof Error ? error : new Error(String(error)));
      const channel = this.#channels.get(publication.meta.channel);
      if (channel?.latest === publication) channel.latest = undefined;
      return;
    }
    const timer = setTimeout(() => {
      this.#interrupted.delete(key);
      publication.failed(
        createError(
          "ERR_STREAM_CANCELLED",
          `channel ${publication.meta.channel}: publisher did not resume`,
        ),
      );
    }, this.#resumeTtlMs);
    timer.unref();
    this.#interrupted.set(key, { publication, timer });
  }

  /** Streams `publication` to one subscriber, reading its bytes as they arrive. */
  #deliver(connection: WireConnection, publication: Publication): void {
    if (!connection.isOpen) return;
    const { meta, buffer } = publication;
    const streamId = connection.allocateStreamId();
    const reader = buffer.retained ? undefined : buffer.addReader(buffer.received);
    if (reader && buffer.received > 0) {
      // Joined a relayed payload mid-way: its beginning is gone, so it cannot be delivered.
      buffer.removeReader(reader);
      return;
    }
    const chunkSize = publication.takeFrames()
      ? meta.chunkSize
      : Math.max(
          meta.chunkSize,
          Math.min(copiedChunkBytes, connection.maxFrameBytes - frameHeaderBytes),
        );
    connection.send({
      type: "open",
      streamId,
      transferId: meta.transferId,
      channel: meta.channel,
      size: meta.size,
      origin: meta.origin,
      ...(meta.name === undefined ? {} : { name: meta.name }),
      chunkSize,
    });
    const sender = new StreamSender({
      transferId: meta.transferId,
      size: meta.size,
      chunkSize,
      // One of the publisher's frames when the read is exactly one (sent on as it is, if no
      // other delivery took it), else a view or a copy straight into the outgoing frame.
      readChunk: (offset, length) =>
        buffer.read(offset, length, reader, (bytes) => connection.dataPayload(bytes)),
      // The publisher's digest (checked by the upload when retained, else by each subscriber):
      // the server never hashes a delivery.
      knownDigest: () => publication.digest.promise,
    });
    runSender(connection, streamId, sender).then(
      () => {
        if (reader) buffer.removeReader(reader);
      },
      (error: unknown) => {
        if (reader) buffer.removeReader(reader);
        this.#logger.info(
          { channel: meta.channel, transferId: meta.transferId, reason: describeError(error) },
          "channel delivery ended early",
        );
      },
    );
  }
}

/** Ends `connection` for a failure while serving it: its own close code, else 1011. */
function failConnection(connection: WireConnection, error: unknown): void {
  connection.fail(
    isSynclineError(error)
      ? error
      : createError("ERR_UNEXPECTED", `channels: ${describeError(error)}`),
  );
}
