// The client side of channels: publish a payload (resuming across reconnects from what the
// server holds) and receive a channel's payloads (resuming a cut delivery, skipping our own
// items so a clipboard never loops).

import { randomUUID } from "node:crypto";
import { createError, isSynclineError } from "../protocol/errors.js";
import { frameHeaderBytes } from "../protocol/wire-frame.js";
import type { OpenMessage } from "../protocol/wire-messages.js";
import { OfflineQueue, type OfflineQueueLimits } from "../transport/offline-queue.js";
import { acceptEagerOpen, takeEager } from "../transport/stream/open-credit.js";
import type { PayloadHash } from "../transport/stream/payload-hash.js";
import type { ReadBytes } from "../transport/stream/payload-source.js";
import { StreamReceiver } from "../transport/stream/stream-receiver.js";
import { StreamSender } from "../transport/stream/stream-sender.js";
import { runReceiver, runSenderForAck } from "../transport/stream-link.js";
import type { WireClient } from "../transport/wire-client.js";
import type { WireConnection } from "../transport/wire-connection.js";
import type { DialedConnection } from "../transport/wire-dial.js";
import { parseChannelName } from "./channel-name.js";

/** A payload to publish: its size and random access to its bytes. */
export interface PayloadSource {
  readonly size: number;
  readonly read: ReadBytes;
  /**
   * Optional: reads the `into.length` bytes at `offset` into `into` and resolves with how many it
   * read. Given this, the client reads each chunk straight into the outgoing frame's buffer
   * (e.g. a file handle's read), which spares a buffer and a copy per chunk.
   */
  readonly readInto?: (offset: number, into: Uint8Array) => Promise<number>;
  readonly name?: string;
}

/** What a subscriber learns when a payload starts arriving. */
export interface IncomingPayload {
  readonly transferId: string;
  readonly channel: string;
  readonly size: number;
  readonly origin: string;
  readonly name: string | undefined;
}

/** Where an incoming payload's bytes go; `writeChunk` is called in order. */
export interface PayloadSink {
  writeChunk(offset: number, bytes: Uint8Array): Promise<void>;
}

/** A received payload. */
export interface ReceivedPayload extends IncomingPayload {
  readonly sha256: Uint8Array;
}

/** How `ChannelClient.receive` takes a channel's payloads. */
export interface ReceiveOptions {
  readonly latest: boolean;
  readonly accept: (incoming: IncomingPayload) => PayloadSink | undefined;
  readonly until: (received: ReceivedPayload) => boolean | Promise<boolean>;
  readonly onProgress?: (incoming: IncomingPayload, bytes: number) => void;
  /** Also take payloads whose origin is this device. Default false. */
  readonly takeOwn?: boolean;
  /** Told of each payload skipped because it came from this device. */
  readonly onOwnSkipped?: (incoming: IncomingPayload) => void;
}

/** What the server said when it acknowledged a published payload. */
export interface SendReceipt {
  /** SHA-256 of the payload, as the server acknowledged it. */
  readonly sha256: Uint8Array;
  /**
   * How many receivers had the whole payload when the server acknowledged it; undefined from a
   * server that does not say (an older one).
   */
  readonly delivered: number | undefined;
  /**
   * True when the server keeps the payload as the channel's latest (durably) for receivers that
   * come later; false when it only relayed it; undefined from a server that does not say.
   */
  readonly kept: boolean | undefined;
}

/**
 * Default transfer chunk size: 1 MiB, or the largest DATA payload the server accepts if that is
 * less. Every chunk costs each of the three processes a frame, a credit turn and a few promises;
 * at 64 KiB that per-chunk work was a third of a large transfer's time (stream-throughput: 1 MiB
 * chunks 258 MiB/s, 64 KiB 194 MiB/s, same run), while progress and resume stay fine-grained
 * enough at 1 MiB.
 */
export const defaultChunkSize = 1024 * 1024;

/** Publishes and receives payloads over a reconnecting wire client. */
export class ChannelClient {
  readonly #client: WireClient;
  /** This device's id, carried as every payload's origin. */
  readonly origin: string;

  /** Sends waiting for a connection, bounded so an offline client cannot pile up work. */
  readonly #offline: OfflineQueue<() => void>;

  constructor(client: WireClient, options: { origin: string; offline?: OfflineQueueLimits }) {
    this.#client = client;
    this.origin = options.origin;
    this.#offline = new OfflineQueue(options.offline ?? { maxCount: 100, maxBytes: 1024 ** 3 });
    client.on("open", () => {
      for (const wake of this.#offline.drain()) wake();
    });
  }

  /** Waits for an open connection; while offline, holds a place in the bounded offline queue. */
  async #connection(size: number): Promise<DialedConnection> {
    const current = this.#client.current;
    if (current) return current;
    const queued = new Promise<void>((resolve) => this.#offline.push(resolve, size));
    // `whenOpen` also rejects when the client gives up, which the queue alone would not see.
    await Promise.race([queued, this.#client.whenOpen()]);
    return this.#client.whenOpen();
  }

  /**
   * Publishes `source` on `channel`. A lost connection is resumed after the reconnect from the
   * bytes the server already holds (nothing re-sent); resolves with the acknowledged SHA-256.
   * While offline at most 100 sends (1 GiB of payloads) wait; more reject with ERR_QUEUE_FULL.
   */
  async send(
    channel: string,
    source: PayloadSource,
    options: { chunkSize?: number; onProgress?: (bytes: number, size: number) => void } = {},
  ): Promise<Uint8Array> {
    return (await this.sendWithReceipt(channel, source, options)).sha256;
  }

  /**
   * `send`, resolving with the server's receipt: the SHA-256, how many receivers got the payload
   * and whether the server keeps it for receivers that come later.
   */
  async sendWithReceipt(
    channel: string,
    source: PayloadSource,
    options: { chunkSize?: number; onProgress?: (bytes: number, size: number) => void } = {},
  ): Promise<SendReceipt> {
    parseChannelName(channel);
    const askedChunkSize = options.chunkSize ?? defaultChunkSize;
    // Checked before waiting for a connection, so a bad call fails at once, not after a reconnect.
    checkSend(source, askedChunkSize, options.onProgress);
    const transferId = randomUUID();
    for (;;) {
      const { connection } = await this.#connection(source.size);
      const chunkSize = Math.min(askedChunkSize, connection.maxFrameBytes - frameHeaderBytes);
      const streamId = connection.allocateStreamId();
      // A small payload goes whole with its OPEN when the server offered room for it: one trip
      // to the server instead of two (OPEN, then RESUME and CREDIT back, then DATA).
      const eager = takeEager(connection.eagerSendCredit, source.size, chunkSize);
      connection.send({
        type: "open",
        streamId,
        transferId,
        channel,
        size: source.size,
        origin: this.origin,
        ...(source.name === undefined ? {} : { name: source.name }),
        chunkSize,
        ...(eager ? { eager } : {}),
      });
      const sender = new StreamSender({
        transferId,
        size: source.size,
        chunkSize,
        readChunk: readChunkOf(source, connection),
        ...(eager ? { initialCredit: source.size } : {}),
      });
      if (options.onProgress) sender.on("progress", options.onProgress);
      try {
        const ack = await runSenderForAck(connection, streamId, sender, { eager });
        return { sha256: ack.sha256, delivered: ack.delivered, kept: ack.kept };
      } catch (error) {
        if (!isConnectionLoss(error)) throw error;
      }
    }
  }

  /**
   * Receives payloads of `channel`: the channel's current one at once when `latest`, then every
   * later one, until `until` (asked after each payload) says stop. `accept` picks a sink for each
   * (undefined skips it). Payloads from this device are skipped, so a clipboard that follows a
   * channel it also sends on never loops, unless `takeOwn` (a one-shot receive, which wants the
   * channel's latest payload whoever sent it); `onOwnSkipped` is told of each one skipped.
   */
  async receive(channel: string, options: ReceiveOptions): Promise<void> {
    parseChannelName(channel);
    for (const name of ["accept", "until", "onProgress", "onOwnSkipped"] as const) {
      const given = options[name];
      if (given !== undefined && typeof given !== "function") {
        throw invalidOption(`receive: ${name} is ${typeof given}, not a function`);
      }
    }
    const seen = new Set<string>();
    const partial = new Map<string, { sink: PayloadSink; offset: number; hash: PayloadHash }>();
    return new Promise<void>((resolve, reject) => {
      let stopped = false;
      const stop = (error?: unknown) => {
        if (stopped) return;
        stopped = true;
        offOpen();
        offState();
        const current = this.#client.current;
        current?.connection.send({ type: "unsubscribe", channel });
        if (error) reject(error);
        else resolve();
      };
      const serve = (dialed: DialedConnection) => {
        const { connection } = dialed;
        connection.on("message", (message) => {
          if (stopped || message.type !== "open" || message.channel !== channel) return;
          // One catch for the delivery and for `until`: a throwing `until` ends receive with
          // its error rather than as an unhandled rejection that leaves receive pending.
          void this.#accept(dialed, message, options, seen, partial)
            .then(async (received) => {
              if (received && (await options.until(received))) stop();
            })
            .catch((error: unknown) => {
              if (!isConnectionLoss(error)) stop(error);
            });
        });
        connection.send({ type: "subscribe", channel, latest: options.latest, follow: true });
      };
      const offOpen = this.#client.on("open", serve);
      // The client closing ends receiving: with its failure, or normally after close().
      const offState = this.#client.on("state", (change) => {
        if (change.to === "closed") stop(this.#client.failure);
      });
      const current = this.#client.current;
      if (current) serve(current);
    });
  }

  async #accept(
    dialed: DialedConnection,
    open: OpenMessage,
    options: ReceiveOptions,
    seen: Set<string>,
    partial: Map<string, { sink: PayloadSink; offset: number; hash: PayloadHash }>,
  ): Promise<ReceivedPayload | undefined> {
    const { connection } = dialed;
    const incoming: IncomingPayload = {
      transferId: open.transferId,
      channel: open.channel,
      size: open.size,
      origin: open.origin,
      name: open.name,
    };
    const eager = open.eager === true;
    if (eager) acceptEagerOpen(connection.eagerReceiveCredit, open);
    const partlyHeld = partial.get(open.transferId);
    // An eager payload comes whole from byte 0: a sink left holding part of it is reused only
    // when it holds nothing yet.
    const held = eager && partlyHeld && partlyHeld.offset > 0 ? undefined : partlyHeld;
    const own = open.origin === this.origin && options.takeOwn !== true;
    const skip = seen.has(open.transferId) || own;
    const sink = held?.sink ?? (skip ? undefined : options.accept(incoming));
    if (!sink) {
      if (own) options.onOwnSkipped?.(incoming);
      const why = own ? "payload from this device" : "payload not wanted";
      connection.send({
        type: "cancel",
        streamId: open.streamId,
        code: "ERR_STREAM_CANCELLED",
        message: why,
      });
      if (eager) connection.eagerReceiveCredit.release(open.size);
      return undefined;
    }
    partial.delete(open.transferId);
    const receiver = new StreamReceiver({
      transferId: open.transferId,
      size: open.size,
      writeChunk: (offset, bytes) => sink.writeChunk(offset, bytes),
      ...(held && !eager ? { initialOffset: held.offset, hash: held.hash } : {}),
      ...(eager ? { eager } : {}),
    });
    if (options.onProgress)
      receiver.on("progress", (bytes) => options.onProgress?.(incoming, bytes));
    try {
      const sha256 = await runReceiver(connection, open.streamId, receiver, { eager });
      seen.add(open.transferId);
      return { ...incoming, sha256 };
    } catch (error) {
      if (isConnectionLoss(error)) {
        // This receiver checks the digest, so a hand-over always carries its hash.
        const handed = await receiver.handOver();
        if (handed?.hash)
          partial.set(open.transferId, { sink, offset: handed.offset, hash: handed.hash });
      }
      throw error;
    }
  }
}

/** How the sender reads `source`: into the connection's frame buffers when it can. */
function readChunkOf(source: PayloadSource, connection: WireConnection): ReadBytes {
  const { readInto } = source;
  if (readInto === undefined) return source.read;
  return async (offset, length) => {
    const payload = connection.dataPayload(length);
    const read = await readInto(offset, payload);
    // A short read is a changed file: readExact reports it from the length.
    return read === length ? payload : payload.subarray(0, read);
  };
}

/** Refuses a payload or options the stream sender could not use, with ERR_INVALID_OPTION. */
function checkSend(source: PayloadSource, chunkSize: number, onProgress: unknown): void {
  const size = source?.size;
  if (!Number.isSafeInteger(size) || size < 0) {
    throw invalidOption(`send: source.size ${String(size)} is not an integer >= 0`);
  }
  if (typeof source.read !== "function") {
    throw invalidOption("send: source.read is not a function");
  }
  if (!Number.isSafeInteger(chunkSize) || chunkSize < 1) {
    throw invalidOption(`send: chunkSize ${String(chunkSize)} is not an integer >= 1`);
  }
  if (onProgress !== undefined && typeof onProgress !== "function") {
    throw invalidOption("send: onProgress is not a function");
  }
}

function invalidOption(problem: string) {
  return createError("ERR_INVALID_OPTION", `channel client: ${problem}`);
}

function isConnectionLoss(error: unknown): boolean {
  return isSynclineError(error) && error.code === "ERR_CONNECTION_CLOSED";
}
