// Named pub/sub among authenticated peers, on the server: publishers stream a payload in on an
// OPEN, the hub streams it out to each subscriber at that subscriber's pace, keeps each channel's
// latest payload durably (in the store, or in the spool folder when bigger, within limits) for
// receivers that come later or after a restart, and lets a publisher that lost its connection
// resume where it stopped. Channels belong to a user: a key's user (its authorized_keys line's
// `syncline-user`, or the default user) names the channels it reads and writes.
//
// Invariants:
// 1. A channel's record changes (a new latest, a drop) and its subscriptions run in that
//    channel's queue, in order: a payload started before a SUBSCRIBE is delivered once, as the
//    latest.
// 2. The keep limits count OPEN's announced size from OPEN until the bytes are deleted, so
//    uploads in parallel or interrupted cannot pass them; what does not fit is relayed only.
// 3. Delivery never waits for the disk: bytes go to receivers from memory as they arrive; the
//    durable copy is written beside them, and only it (never a receiver) holds a kept payload's
//    publisher back. A relayed payload's publisher waits for its slowest receiver, which is
//    dropped once it holds the payload back for `relayStallMs` without reading.
// 4. A kept payload is acknowledged only once durable; the ACK says how many got it and if kept.
// 5. A channel is in memory only while it has followers, queued work, or a latest still in use.
//
// Several nodes (`bus`): the store is the truth and the bus carries news. A kept payload is
// written to the shared store as it arrives (as on one node), and the other nodes are told of
// each record change and each piece written (channel-nodes.ts); they deliver it to their own
// followers from the store, at each receiver's pace (remote-payloads.ts). A payload relayed only
// (too big or over the limits) reaches the receivers of its own node only.

import { createError } from "../protocol/errors.js";
import type { SubscribeMessage, WireMessage } from "../protocol/wire-messages.js";
import type { WireConnection } from "../transport/wire-connection.js";
import type { WireSession } from "../transport/wire-server.js";
import { deliver } from "./channel-delivery.js";
import type { ChannelHubOptions, ChannelObserver } from "./channel-hub-options.js";
import { ChannelItems, type UnfinishedItem } from "./channel-items.js";
import { parseChannelName } from "./channel-name.js";
import { ChannelNodes } from "./channel-nodes.js";
import { defaultUserSegment, type KeptIn } from "./channel-records.js";
import { type Channel, ChannelRegistry } from "./channel-registry.js";
import { ChannelUploads, failConnection, type UploadStreams } from "./channel-uploads.js";
import type { Publication } from "./publication.js";
import { RemotePayloads } from "./remote-payloads.js";

/** The server's channels; `start` once, then `attach` each authenticated session. */
export class ChannelHub {
  readonly #registry = new ChannelRegistry();
  readonly #items: ChannelItems;
  readonly #uploads: ChannelUploads;
  readonly #options: ChannelHubOptions;
  readonly #observer: ChannelObserver;
  /** Publications in use (uploading, awaited or delivering), for shutdown. */
  readonly #live = new Set<Publication>();
  readonly #expiries = new Set<NodeJS.Timeout>();
  /** Several nodes: the link to the others, and their payloads served here. */
  readonly #nodes: ChannelNodes | undefined;
  readonly #remote: RemotePayloads | undefined;
  #held = 0;

  constructor(options: ChannelHubOptions) {
    this.#options = options;
    this.#observer = options.observer ?? {};
    const { bus, logger } = options;
    this.#nodes =
      bus &&
      new ChannelNodes(bus, {
        logger,
        receive: (notice) => this.#remote?.receive(notice),
        resumed: () => this.#remote?.resumed(),
      });
    this.#items = new ChannelItems({
      store: options.store,
      spoolFolder: options.spoolFolder,
      settings: options.settings,
      logger: options.logger,
      onHeld: (delta) => {
        this.#held += delta;
      },
      adopt: (publication) => this.#adopt(publication),
      ...(this.#nodes ? { shared: { node: this.#nodes.node, news: this.#nodes } } : {}),
    });
    this.#remote =
      this.#nodes &&
      new RemotePayloads({
        store: options.store,
        registry: this.#registry,
        items: this.#items,
        logger,
        resumeTtlMs: options.settings.resumeTtlMs,
        deliver: (connection, publication) => this.#deliver(connection, publication),
      });
    this.#uploads = new ChannelUploads({
      registry: this.#registry,
      items: this.#items,
      settings: options.settings,
      logger: options.logger,
      observer: this.#observer,
      deliver: (connection, publication) =>
        deliver(connection, publication, options.logger, this.#observer),
    });
  }

  /** Bytes of payloads held in memory now. */
  get heldBytes(): number {
    return this.#held;
  }

  /** Channels in memory now. */
  get channelsInMemory(): number {
    return this.#registry.size;
  }

  /** Bytes the kept items announce, in the store or the spool (what the limits bound). */
  keptBytes(keptIn: KeptIn): number {
    return this.#items.budget.total(keptIn);
  }

  /**
   * Reads what is kept (counting it against the limits), tidies what a crash left, and gives
   * each unfinished upload `resumeTtlMs` from now for its publisher to resume it.
   */
  async start(): Promise<void> {
    const unfinished = await this.#items.start();
    if (this.#nodes) {
      // Several nodes: an unfinished record may be another node's upload under way; read back,
      // it is watched as every remote payload is (and dropped if it makes no progress).
      for (const item of unfinished) this.#remote?.refresh(this.#registry.get(item.key));
      await this.#nodes.start();
      return;
    }
    for (const item of unfinished) this.#expireLater(item);
  }

  /** Serves one authenticated connection until it closes. */
  attach(session: WireSession): void {
    const { connection } = session;
    const user = session.user ?? defaultUserSegment;
    const streams: UploadStreams = { inbound: new Set(), pending: new Map(), eager: new Set() };
    const followed = new Set<Channel>();
    connection.on("message", (message) => {
      try {
        this.#dispatch(session, user, message, streams, followed);
      } catch (error) {
        failConnection(connection, error);
      }
    });
    connection.on("close", () => {
      streams.pending.clear();
      for (const channel of followed) {
        channel.followers.delete(connection);
        this.#registry.forgetIfIdle(channel);
      }
      followed.clear();
    });
  }

  /**
   * Stops: no more deletions or timers; uploads still unfinished stay kept for a restart (the
   * server closed their connections first). Waits for the copies being written.
   */
  async close(): Promise<void> {
    this.#remote?.close();
    await this.#nodes?.close();
    const items = this.#items.close();
    this.#uploads.close();
    for (const timer of this.#expiries) clearTimeout(timer);
    const open = new Set([...this.#live, ...this.#uploads.suspended()]);
    for (const channel of this.#registry.values()) if (channel.latest) open.add(channel.latest);
    const stopping = createError("ERR_SHUTTING_DOWN", "channels: the server is shutting down");
    for (const publication of open) {
      if (!publication.complete) publication.buffer.fail(stopping);
    }
    await Promise.all([...open].map((publication) => publication.keeper?.catch(() => {})));
    await Promise.all([...open].map((publication) => publication.close()));
    await items;
  }

  #dispatch(
    session: WireSession,
    user: string,
    message: WireMessage,
    streams: UploadStreams,
    followed: Set<Channel>,
  ): void {
    const { connection } = session;
    if (message.type === "subscribe") this.#subscribe(connection, user, message, followed);
    else if (message.type === "unsubscribe") this.#unfollow(connection, user, message, followed);
    else if (message.type === "open") this.#uploads.open(session, user, message, streams);
    else this.#uploads.route(message, streams);
  }

  /**
   * Follows and/or takes the latest in the channel's queue, after the uploads OPENed before: a
   * payload started earlier is delivered as the latest, one started later to the follower, and
   * none twice.
   */
  #subscribe(
    connection: WireConnection,
    user: string,
    message: SubscribeMessage,
    followed: Set<Channel>,
  ): void {
    const channel = this.#registry.get({ user, name: parseChannelName(message.channel) });
    void channel
      .run(async () => {
        if (!connection.isOpen) return;
        if (message.latest) {
          // Several nodes: the record is read again (another node may have a newer one, which
          // the followers here get too); one node: read once.
          if ((await this.#items.reload(channel)) && channel.latest) {
            for (const follower of channel.followers) this.#deliver(follower, channel.latest);
          }
          if (channel.latest) this.#deliver(connection, channel.latest);
        }
        if (message.follow && connection.isOpen) {
          channel.followers.add(connection);
          followed.add(channel);
        }
      })
      .catch((error: unknown) => failConnection(connection, error))
      .finally(() => this.#registry.forgetIfIdle(channel));
  }

  #unfollow(
    connection: WireConnection,
    user: string,
    message: { channel: string },
    followed: Set<Channel>,
  ): void {
    const channel = this.#registry.peek({ user, name: parseChannelName(message.channel) });
    if (!channel) return;
    // In the queue too, so it comes after a SUBSCRIBE sent before it.
    void channel
      .run(async () => {
        channel.followers.delete(connection);
        followed.delete(channel);
      })
      .finally(() => this.#registry.forgetIfIdle(channel));
  }

  #deliver(connection: WireConnection, publication: Publication): void {
    deliver(connection, publication, this.#options.logger, this.#observer);
  }

  /** Every publication made: followed while in use; its bytes go once retired and unused. */
  #adopt(publication: Publication): void {
    if (publication.active) this.#live.add(publication);
    if (publication.remote) this.#remote?.watch(publication);
    publication.onIdle = () => {
      if (publication.active) return;
      this.#live.delete(publication);
      this.#items.removeIfUnused(publication);
      const channel = this.#registry.peek(publication.key);
      if (channel) this.#registry.forgetIfIdle(channel);
    };
  }

  /** An unfinished upload found at start is dropped unless its publisher resumes in time. */
  #expireLater(item: UnfinishedItem): void {
    const timer = setTimeout(() => {
      this.#expiries.delete(timer);
      const channel = this.#registry.get(item.key);
      void channel
        .run(async () => {
          await this.#items.load(channel);
          const latest = channel.latest;
          const waiting =
            latest?.meta.transferId === item.transferId && this.#uploads.awaitsResume(latest);
          if (!waiting) return;
          const reason = `channel ${item.key.name}: publisher did not resume after the restart`;
          this.#uploads.fail(latest, createError("ERR_STREAM_CANCELLED", reason));
        })
        .catch((error: unknown) =>
          this.#options.logger.warn({ err: error }, "channels: expiring an upload failed"),
        )
        .finally(() => this.#registry.forgetIfIdle(channel));
    }, this.#options.settings.resumeTtlMs);
    timer.unref();
    this.#expiries.add(timer);
  }
}
