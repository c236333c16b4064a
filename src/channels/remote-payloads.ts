// Payloads another node is publishing, as this node serves them (several nodes share the store).
// The other node writes the bytes into its kept copy in the store and says how far on the bus;
// here a remote publication reads them back from the store, each delivery at its receiver's own
// pace, so nothing is held in memory for a slow receiver and a receiver's resume reads from
// wherever it stopped. The bus is at most once, so every remote payload under way is also
// watched: when no news of it came for a while its progress is read from the store, and one that
// made no progress for twice `resumeTtlMs` (its node died and its publisher did not come back)
// is dropped as an interrupted upload is on one node.

import { createError } from "../protocol/errors.js";
import type { Store } from "../storage/store.js";
import type { WireConnection } from "../transport/wire-connection.js";
import type { WireLogger } from "../transport/wire-server.js";
import type { ChannelItems } from "./channel-items.js";
import { keyOf, type Notice } from "./channel-news.js";
import { type ChannelKey, decodeItem, itemKey, itemRoot } from "./channel-records.js";
import type { Channel, ChannelRegistry } from "./channel-registry.js";
import { StoreCopy } from "./payload-copy.js";
import type { Publication } from "./publication.js";

/** What remote payloads work with. */
export interface RemoteContext {
  readonly store: Store;
  readonly registry: ChannelRegistry;
  readonly items: ChannelItems;
  readonly logger: WireLogger;
  readonly resumeTtlMs: number;
  /** Starts delivering `publication` to `connection`. */
  readonly deliver: (connection: WireConnection, publication: Publication) => void;
}

/** A remote payload under way, and when news of it last came. */
interface Watched {
  readonly publication: Publication;
  readonly timer: NodeJS.Timeout;
  /** When its bytes last grew, ms since the epoch. */
  movedAt: number;
  /** News came since the last tick (no need to ask the store). */
  heard: boolean;
  polling: boolean;
}

/** Notices of copies this node holds no publication of yet (its load is under way), kept a while. */
const maxEarly = 1000;

/** Remote payloads of one hub. */
export class RemotePayloads {
  readonly #context: RemoteContext;
  /** Remote payloads under way, by copy. */
  readonly #watched = new Map<string, Watched>();
  /** Progress and ends heard for copies not watched yet. */
  readonly #early = new Map<string, { written?: number; sha256?: Uint8Array }>();
  readonly #pollMs: number;

  constructor(context: RemoteContext) {
    this.#context = context;
    this.#pollMs = Math.max(50, Math.min(2000, Math.floor(context.resumeTtlMs / 4)));
  }

  /** Another node's notice. */
  receive(notice: Notice): void {
    if (notice.t === "o") {
      this.#context.items.heard(keyOf(notice), notice.k, notice.n, notice.b);
      const channel = this.#context.registry.peek(keyOf(notice));
      if (channel) this.refresh(channel);
      return;
    }
    const watched = this.#watched.get(notice.k);
    if (!watched) {
      if (this.#context.registry.peek(keyOf(notice))) this.#remember(notice);
      return;
    }
    watched.heard = true;
    if (notice.t === "p") this.#moved(watched, notice.w);
    else if (notice.t === "e") this.#complete(watched, notice.s);
    else this.#fail(watched, `channel ${notice.c}: the upload failed on another node`);
  }

  /**
   * Follows a remote payload under way (made by ChannelItems from a record), once its maker is
   * done with it (a complete one is marked so right after it is made).
   */
  watch(publication: Publication): void {
    queueMicrotask(() => this.#watch(publication));
  }

  #watch(publication: Publication): void {
    const copy = publication.copy?.name;
    const over = publication.complete || publication.failure !== undefined;
    if (!copy || over || this.#watched.has(copy)) return;
    const timer = setInterval(() => this.#tick(copy), this.#pollMs);
    timer.unref();
    const watched: Watched = {
      publication,
      timer,
      movedAt: Date.now(),
      heard: false,
      polling: false,
    };
    this.#watched.set(copy, watched);
    const early = this.#early.get(copy);
    this.#early.delete(copy);
    if (early?.written !== undefined) this.#moved(watched, early.written);
    if (early?.sha256) this.#complete(watched, early.sha256);
  }

  /**
   * Reads `channel`'s record again in its queue; a new latest goes to its followers (they did
   * not have it: it is new here).
   */
  refresh(channel: Channel): void {
    const { registry, items, deliver, logger } = this.#context;
    void channel
      .run(async () => {
        if (!(await items.reload(channel)) || !channel.latest) return;
        for (const follower of channel.followers) deliver(follower, channel.latest);
      })
      .catch((error: unknown) =>
        logger.warn({ channel: channel.key.name, err: error }, "channels: reading news failed"),
      )
      .finally(() => registry.forgetIfIdle(channel));
  }

  /**
   * The bus is back: every channel in memory reads its record again (a new latest goes to its
   * followers), every remote payload under way its progress, and the limits count what the
   * store holds now.
   */
  resumed(): void {
    for (const channel of [...this.#context.registry.values()]) this.refresh(channel);
    for (const copy of this.#watched.keys()) this.#tick(copy, true);
    void this.#recount().catch((error: unknown) =>
      this.#context.logger.warn({ err: error }, "channels: counting kept payloads failed"),
    );
  }

  /** Stops watching (shutdown). */
  close(): void {
    for (const watched of this.#watched.values()) clearInterval(watched.timer);
    this.#watched.clear();
    this.#early.clear();
  }

  #moved(watched: Watched, written: number): void {
    const { publication } = watched;
    if (written > publication.buffer.received) watched.movedAt = Date.now();
    publication.advance(written);
  }

  #complete(watched: Watched, sha256: Uint8Array): void {
    this.#unwatch(watched);
    const { publication } = watched;
    publication.advance(publication.meta.size);
    if (!publication.complete) publication.completed(sha256);
    publication.onIdle();
  }

  #fail(watched: Watched, reason: string): void {
    this.#unwatch(watched);
    watched.publication.failed(createError("ERR_STREAM_CANCELLED", reason));
  }

  #unwatch(watched: Watched): void {
    clearInterval(watched.timer);
    const copy = watched.publication.copy?.name;
    if (copy && this.#watched.get(copy) === watched) this.#watched.delete(copy);
  }

  /** Asks the store when no news came since the last tick; drops what made no progress. */
  #tick(copy: string, always = false): void {
    const watched = this.#watched.get(copy);
    if (!watched || watched.polling) return;
    if (watched.heard && !always) {
      watched.heard = false;
      return;
    }
    watched.polling = true;
    void this.#poll(watched)
      .catch((error: unknown) =>
        this.#context.logger.warn({ err: error }, "channels: reading a remote payload failed"),
      )
      .finally(() => {
        watched.polling = false;
      });
  }

  async #poll(watched: Watched): Promise<void> {
    const { publication } = watched;
    const { key } = publication;
    const copy = publication.copy?.name as string;
    const bytes = await this.#context.store.get(itemKey(key));
    const record = bytes && decodeItem(bytes);
    const named = record?.copy === copy;
    if (named && record.sha256 !== undefined) {
      this.#complete(watched, Buffer.from(record.sha256, "hex"));
      return;
    }
    const written = (await StoreCopy.open(this.#context.store, key, copy)).written;
    this.#moved(watched, written);
    if (Date.now() - watched.movedAt < 2 * this.#context.resumeTtlMs) return;
    // Its node died (or lost it) and its publisher did not resume: as on one node, dropped.
    this.#fail(watched, `channel ${key.name}: publisher did not resume`);
    this.#drop(key, publication);
  }

  #drop(key: ChannelKey, publication: Publication): void {
    const { registry, items, logger } = this.#context;
    const channel = registry.get(key);
    void channel
      .run(() => items.drop(channel, publication))
      .catch((error: unknown) => logger.warn({ err: error }, "channels: dropping a payload failed"))
      .finally(() => registry.forgetIfIdle(channel));
  }

  #remember(notice: Notice): void {
    if (notice.t === "o") return;
    const early = this.#early.get(notice.k) ?? {};
    if (notice.t === "p") early.written = Math.max(early.written ?? 0, notice.w);
    else if (notice.t === "e") early.sha256 = notice.s;
    else return;
    this.#early.delete(notice.k);
    this.#early.set(notice.k, early);
    if (this.#early.size > maxEarly) this.#early.delete(this.#early.keys().next().value as string);
  }

  /** Counts in the limits what every channel's record names now (news may have been lost). */
  async #recount(): Promise<void> {
    const { store, items } = this.#context;
    for await (const entry of store.range([itemRoot])) {
      const record = decodeItem(entry.value);
      const [, user, name] = entry.key;
      if (!record || user === undefined || name === undefined) continue;
      if (record.keptIn !== "store") continue;
      items.heard({ user, name }, record.copy, record.size, record.charged ?? "store");
    }
  }
}
