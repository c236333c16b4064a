// Publishers' uploads on the server: an OPEN starts a payload (or resumes one: interrupted in this
// process, or unfinished in the store after a restart), its stream is received into the
// publication, and the ACK tells the publisher how many subscribers got it and whether it is
// kept. An interrupted upload waits `resumeTtlMs` for its publisher.

import { createError, describeError, isSynclineError } from "../protocol/errors.js";
import type { OpenMessage, WireMessage } from "../protocol/wire-messages.js";
import { acceptEagerOpen } from "../transport/stream/open-credit.js";
import type { StreamReceiver } from "../transport/stream/stream-receiver.js";
import { runReceiver } from "../transport/stream-link.js";
import type { WireConnection } from "../transport/wire-connection.js";
import type { WireLogger, WireSession } from "../transport/wire-server.js";
import type { ChannelObserver, ChannelSettings } from "./channel-hub-options.js";
import type { ChannelItems } from "./channel-items.js";
import { parseChannelName } from "./channel-name.js";
import type { ChannelKey } from "./channel-records.js";
import type { Channel, ChannelRegistry } from "./channel-registry.js";
import type { Publication } from "./publication.js";

/** A connection's client streams: those being received, and those waiting to start. */
export interface UploadStreams {
  readonly inbound: Set<number>;
  /** OPENed streams the server is still looking up, with the messages that came meanwhile. */
  readonly pending: Map<number, WireMessage[]>;
  /**
   * Eager streams (OPEN's `eager`) not yet handed to their receiver: their DATA may come before
   * the server has looked the channel up, and their bytes are held in the open credit.
   */
  readonly eager: Set<number>;
}

/** What uploads work with. */
export interface UploadContext {
  readonly registry: ChannelRegistry;
  readonly items: ChannelItems;
  readonly settings: ChannelSettings;
  readonly logger: WireLogger;
  readonly observer: ChannelObserver;
  /** Starts delivering `publication` to `connection`. */
  readonly deliver: (connection: WireConnection, publication: Publication) => void;
}

/** A publisher's stream in progress; `settled` resolves once it is done or suspended. */
interface Upload {
  readonly connection: WireConnection;
  settled: Promise<void>;
}

/**
 * Messages a client may send on a stream before the server's RESUME: END (empty), CANCEL; on an
 * eager stream also its one DATA frame.
 */
const maxEarlyMessages = 4;

/** The uploads of one hub. */
export class ChannelUploads {
  readonly #context: UploadContext;
  /** Uploads whose publisher disconnected, by user, publisher and transfer id. */
  readonly #interrupted = new Map<string, { publication: Publication; timer: NodeJS.Timeout }>();
  /** Uploads being received, by the same key; `settled` once wound down. */
  readonly #uploading = new Map<string, Upload>();
  #closing = false;

  constructor(context: UploadContext) {
    this.#context = context;
  }

  /** An OPEN from `session`: checked now, started in the channel's queue. */
  open(session: WireSession, user: string, open: OpenMessage, streams: UploadStreams): void {
    const id = open.streamId;
    if (id % 2 !== 1 || streams.inbound.has(id) || streams.pending.has(id)) {
      throw createError(
        "ERR_WIRE_MESSAGE",
        `wire: OPEN on stream ${id} (client streams are odd and new)`,
      );
    }
    const key = { user, name: parseChannelName(open.channel) };
    if (open.eager) {
      acceptEagerOpen(session.connection.eagerReceiveCredit, open);
      streams.eager.add(id);
    }
    streams.pending.set(id, []);
    this.#enqueue(session, key, open, streams);
  }

  /**
   * A stream message from a client that is not OPEN: held for a stream being looked up (a DATA
   * there came before any credit, which is a protocol error), refused for an unknown stream.
   */
  route(message: WireMessage, streams: UploadStreams): void {
    if (!("streamId" in message) || message.streamId % 2 !== 1) return;
    const early = streams.pending.get(message.streamId);
    if (early) {
      const dataTooSoon = message.type === "data" && !streams.eager.has(message.streamId);
      if (dataTooSoon || early.length >= maxEarlyMessages) {
        throw createError(
          "ERR_STREAM_PROTOCOL",
          `wire: ${message.type} on stream ${message.streamId} before the server's RESUME and CREDIT`,
        );
      }
      early.push(message);
    } else if (!streams.inbound.has(message.streamId)) {
      throw createError(
        "ERR_WIRE_MESSAGE",
        `wire: ${message.type} for unknown stream ${message.streamId}`,
      );
    }
  }

  /** True when `publication` waits in this process for its publisher to resume. */
  isSuspended(publication: Publication): boolean {
    for (const suspended of this.#interrupted.values()) {
      if (suspended.publication === publication) return true;
    }
    return false;
  }

  /** The publications interrupted in this process (shutdown winds them down). */
  suspended(): Publication[] {
    return [...this.#interrupted.values()].map((entry) => entry.publication);
  }

  /** Fails `publication` for good: it is no longer kept, its deliveries end. */
  fail(publication: Publication, error: Error): void {
    this.#context.observer.transfer?.("upload", "failed");
    if (this.#closing) {
      publication.buffer.fail(error);
      return;
    }
    const { registry, items, logger } = this.#context;
    const channel = registry.get(publication.key);
    void channel
      .run(async () => {
        publication.failed(error);
        if (publication.copy) await items.drop(channel, publication);
      })
      .catch((cause: unknown) => logger.warn({ err: cause }, "channels: dropping a payload failed"))
      .finally(() => registry.forgetIfIdle(channel));
  }

  /** The channel stops keeping `publication` (its copy failed); deliveries running go on. */
  #unkeep(publication: Publication): void {
    const { registry, items, logger } = this.#context;
    const channel = registry.get(publication.key);
    void channel
      .run(() => items.drop(channel, publication))
      .catch((cause: unknown) => logger.warn({ err: cause }, "channels: dropping a payload failed"))
      .finally(() => registry.forgetIfIdle(channel));
  }

  /** Stops the resume timers; what is unfinished stays kept for a restart. */
  close(): void {
    this.#closing = true;
    for (const { timer } of this.#interrupted.values()) clearTimeout(timer);
  }

  #enqueue(session: WireSession, key: ChannelKey, open: OpenMessage, streams: UploadStreams): void {
    const { registry } = this.#context;
    const channel = registry.get(key);
    channel
      .run(() => this.#begin(session, channel, open, streams))
      .catch((error: unknown) => {
        forgetPending(session.connection, open, streams);
        failConnection(session.connection, error);
      })
      .finally(() => registry.forgetIfIdle(channel));
  }

  async #begin(
    session: WireSession,
    channel: Channel,
    open: OpenMessage,
    streams: UploadStreams,
  ): Promise<void> {
    if (!session.connection.isOpen) {
      forgetPending(session.connection, open, streams);
      return;
    }
    const uploadKey = `${channel.key.user}\n${session.peerId}\n${open.transferId}`;
    const running = this.#uploading.get(uploadKey);
    if (running) {
      this.#supersede(session, channel.key, open, streams, running);
      return;
    }
    await this.#context.items.load(channel);
    // An eager OPEN carries its whole payload from byte 0: never a resume, even of its own
    // transfer (a publisher sending again after losing the ACK); what was left of that goes.
    if (open.eager) this.#forgetSuspended(uploadKey);
    const publication =
      (open.eager ? undefined : this.#resumable(uploadKey, channel, open, session.peerId)) ??
      (await this.#start(channel, open, session.peerId));
    this.#receive(session, uploadKey, open, streams, publication);
  }

  /**
   * An OPEN resuming an upload whose old stream is still running: the publisher reconnected
   * before we noticed its old connection die (its deadline passed before ours, or a laptop woke
   * up). A client holds one connection at a time and resumes only after losing it, so that
   * connection is abandoned: cut it, let its stream wind down into a suspended upload, then take
   * this OPEN as the resume (outside the channel's queue, which the wind-down may need). Without
   * this the upload would start over from byte 0.
   */
  #supersede(
    session: WireSession,
    key: ChannelKey,
    open: OpenMessage,
    streams: UploadStreams,
    running: Upload,
  ): void {
    const { connection } = session;
    if (running.connection === connection) {
      throw createError(
        "ERR_WIRE_MESSAGE",
        `wire: OPEN for transfer ${open.transferId}, already being uploaded on this connection`,
      );
    }
    this.#context.logger.info(
      { channel: open.channel, transferId: open.transferId },
      "channel publisher resumed on a new connection; cutting the old one",
    );
    running.connection.terminate();
    void running.settled.then(() => this.#enqueue(session, key, open, streams));
  }

  /** Fails an upload interrupted in this process, now that its publisher sent it afresh. */
  #forgetSuspended(uploadKey: string): void {
    const suspended = this.#interrupted.get(uploadKey);
    if (!suspended) return;
    clearTimeout(suspended.timer);
    this.#interrupted.delete(uploadKey);
    const reason = `channel ${suspended.publication.meta.channel}: sent again from the start`;
    this.fail(suspended.publication, createError("ERR_STREAM_CANCELLED", reason));
  }

  /** The upload this OPEN resumes: interrupted in this process, or unfinished in the store. */
  #resumable(
    uploadKey: string,
    channel: Channel,
    open: OpenMessage,
    publisher: string,
  ): Publication | undefined {
    const suspended = this.#interrupted.get(uploadKey);
    if (suspended && suspended.publication.meta.size === open.size) {
      clearTimeout(suspended.timer);
      this.#interrupted.delete(uploadKey);
      return suspended.publication;
    }
    const latest = channel.latest;
    const unfinished = latest && this.awaitsResume(latest);
    const same =
      latest?.meta.transferId === open.transferId &&
      latest.meta.publisher === publisher &&
      latest.meta.size === open.size;
    return unfinished && same ? latest : undefined;
  }

  /**
   * True for an unfinished upload read back from the store after a restart, whose publisher has
   * not resumed it yet (nor is it interrupted in this process, which has its own timer).
   */
  awaitsResume(publication: Publication): boolean {
    return (
      !publication.remote && // several nodes: only the node writing it resumes it
      !publication.complete &&
      !publication.uploading &&
      publication.failure === undefined &&
      !this.isSuspended(publication)
    );
  }

  /** A new payload: becomes the channel's latest (kept if it may be) and goes to every follower. */
  async #start(channel: Channel, open: OpenMessage, publisher: string): Promise<Publication> {
    const old = channel.latest;
    if (old && this.awaitsResume(old)) {
      // Replaced, it could never be resumed (only a latest is): its bytes can go now.
      this.#context.observer.transfer?.("upload", "failed");
      const reason = `channel ${open.channel}: replaced before its publisher resumed it`;
      old.failed(createError("ERR_STREAM_CANCELLED", reason));
    }
    const publication = await this.#context.items.publish(channel, {
      transferId: open.transferId,
      channel: channel.key.name,
      size: open.size,
      origin: open.origin,
      name: open.name,
      chunkSize: open.chunkSize,
      publisher,
      user: channel.key.user,
    });
    this.#context.observer.transfer?.("upload", "started");
    for (const follower of channel.followers) this.#context.deliver(follower, publication);
    return publication;
  }

  #receive(
    session: WireSession,
    uploadKey: string,
    open: OpenMessage,
    streams: UploadStreams,
    publication: Publication,
  ): void {
    const { connection } = session;
    const earlier = streams.pending.get(open.streamId) ?? [];
    streams.pending.delete(open.streamId);
    // From here runReceiver gives the eager stream's open credit back.
    streams.eager.delete(open.streamId);
    streams.inbound.add(open.streamId);
    const eager = open.eager === true;
    const receiver = publication.createReceiver({ eager });
    publication.uploading = true;
    const upload: Upload = { connection, settled: Promise.resolve() };
    upload.settled = runReceiver(connection, open.streamId, receiver, {
      earlier,
      acknowledge: (sha256) => this.#acknowledge(publication, sha256),
      eager,
    })
      .then(
        () =>
          this.#context.logger.info(
            { channel: open.channel, transferId: open.transferId, bytes: open.size },
            "channel payload published",
          ),
        (error: unknown) => this.#interrupt(uploadKey, publication, receiver, error),
      )
      .finally(() => {
        // Only once the upload is suspended (or done), so a resume waiting on it finds it there.
        streams.inbound.delete(open.streamId);
        publication.uploading = false;
        if (this.#uploading.get(uploadKey) === upload) this.#uploading.delete(uploadKey);
        publication.onIdle();
      });
    this.#uploading.set(uploadKey, upload);
  }

  /**
   * The publisher's END checked out: deliveries may end too. A kept payload is acknowledged once
   * durable; a relayed one once the deliveries running have finished (they are at most a window
   * behind), waiting at most `relayStallMs` for them.
   */
  async #acknowledge(publication: Publication, sha256: Uint8Array) {
    publication.completed(sha256);
    let kept = false;
    if (publication.copy) {
      kept = await this.#context.items.commit(publication).catch((error: unknown) => {
        this.#context.logger.warn(
          { channel: publication.meta.channel, reason: describeError(error) },
          "channel payload could not be kept",
        );
        return false;
      });
      if (!kept) this.#unkeep(publication);
    } else {
      await publication.deliveriesSettled(this.#context.settings.relayStallMs);
    }
    this.#context.observer.transfer?.("upload", "completed");
    return { delivered: publication.delivered, kept };
  }

  async #interrupt(
    uploadKey: string,
    publication: Publication,
    receiver: StreamReceiver,
    error: unknown,
  ): Promise<void> {
    const resumable =
      isSynclineError(error) &&
      error.code === "ERR_CONNECTION_CLOSED" &&
      (await publication.suspend(receiver));
    if (!resumable) {
      this.fail(publication, error instanceof Error ? error : new Error(String(error)));
      return;
    }
    if (this.#closing) return;
    const timer = setTimeout(() => {
      this.#interrupted.delete(uploadKey);
      const { channel } = publication.meta;
      this.fail(
        publication,
        createError("ERR_STREAM_CANCELLED", `channel ${channel}: publisher did not resume`),
      );
    }, this.#context.settings.resumeTtlMs);
    timer.unref();
    this.#interrupted.set(uploadKey, { publication, timer });
  }
}

/** Drops a stream OPENed but never received, giving an eager one's open credit back. */
function forgetPending(connection: WireConnection, open: OpenMessage, streams: UploadStreams) {
  streams.pending.delete(open.streamId);
  if (streams.eager.delete(open.streamId)) connection.eagerReceiveCredit.release(open.size);
}

/** Ends `connection` for a failure while serving it: its own close code, else 1011. */
export function failConnection(connection: WireConnection, error: unknown): void {
  connection.fail(
    isSynclineError(error)
      ? error
      : createError("ERR_UNEXPECTED", `channels: ${describeError(error)}`),
  );
}
