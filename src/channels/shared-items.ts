// The kept side of channels when several nodes share the store: what ChannelItems does
// differently there. This node's view of a channel (its latest in memory) may be stale, so its
// record changes are conditional (shared-records.ts); every kept payload goes to the store, the
// one place the other nodes can read it (a payload too big for `retainBytes` is counted against
// the spool's limits there); a record read back is a remote payload, whose bytes the writing
// node's news (channel-news.ts) says are there; and the limits count what the other nodes keep
// as this node hears of it.

import type { Store } from "../storage/store.js";
import type { WireLogger } from "../transport/wire-server.js";
import type { ChannelNews } from "./channel-news.js";
import { type ChannelKey, copyId, type ItemRecord, type KeptIn } from "./channel-records.js";
import type { Channel } from "./channel-registry.js";
import type { KeepBudget } from "./keep-budget.js";
import { type PayloadCopy, StoreCopy } from "./payload-copy.js";
import type { Publication, PublicationMeta } from "./publication.js";
import { fenceOp, type ReadRecord, SharedRecords } from "./shared-records.js";

/** What SharedItems uses of ChannelItems. */
export interface SharedItemsHost {
  readonly store: Store;
  readonly budget: KeepBudget;
  readonly logger: WireLogger;
  /** This node's bus instance id, written in its records. */
  readonly node: string;
  readonly news: ChannelNews;
  make(meta: PublicationMeta, copy: PayloadCopy | undefined): Publication;
  revive(channel: Channel, read: ReadRecord): Promise<Publication | null>;
  retire(publication: Publication): void;
  /** Deletes store copy `copy` a while from now unless a record names it again. */
  removeLater(key: ChannelKey, copy: string): void;
}

/** ChannelItems' part when several nodes share the store. */
export class SharedItems {
  readonly records: SharedRecords;
  readonly #host: SharedItemsHost;

  constructor(host: SharedItemsHost) {
    this.#host = host;
    this.records = new SharedRecords(host.store, host.budget);
  }

  /** A new payload's copy: always in the store, counted where one node would keep it. */
  copyFor(key: ChannelKey, meta: PublicationMeta, keptIn: KeptIn): StoreCopy {
    const copy = StoreCopy.create(this.#host.store, key);
    this.#host.budget.reserve(copyId("store", copy.name), keptIn, meta.size);
    return copy;
  }

  /** `record` as several nodes write it: naming this node, and the limits it counts against. */
  recordOf(record: ItemRecord): ItemRecord {
    const charged = this.#host.budget.bucketOf(copyId(record.keptIn, record.copy));
    return { ...record, node: this.#host.node, ...(charged === "spool" ? { charged } : {}) };
  }

  /**
   * `ChannelItems.publish` with the record written (conditionally) before anyone hears of the
   * payload or a piece of it is written, each piece then expecting that record (a node whose
   * payload another one replaced cannot write on). A record that cannot be written leaves the
   * payload relayed only. `old`: the latest this node knew, retired already.
   */
  async publish(
    channel: Channel,
    meta: PublicationMeta,
    kept: StoreCopy | undefined,
    record: ItemRecord | undefined,
    old: string | undefined,
  ): Promise<Publication> {
    const { key } = channel;
    let copy = kept;
    let stored: Uint8Array | undefined;
    try {
      const written = await this.records.replace(key, record && this.recordOf(record));
      stored = written.bytes;
      // Another node's latest this node had not heard of: no publication here holds it, so
      // nothing here would delete it (once its readers elsewhere had time to finish).
      const { replaced } = written;
      if (replaced?.keptIn === "store" && replaced.copy !== old) {
        this.#host.removeLater(key, replaced.copy);
      }
    } catch (error) {
      this.#host.logger.warn({ channel: meta.channel, err: error }, "channels: record failed");
      if (copy) this.#host.budget.release(copyId(copy.keptIn, copy.name));
      copy = undefined;
    }
    if (copy && stored) copy.fence = fenceOp(key, stored);
    const publication = this.#host.make(meta, copy);
    publication.stored = stored;
    channel.latest = copy ? publication : null;
    const id = copy && copyId(copy.keptIn, copy.name);
    this.records.name(key, id);
    const charged = (id && this.#host.budget.bucketOf(id)) || "store";
    this.#host.news.opened(key, copy?.name, meta.size, charged);
    return publication;
  }

  /**
   * `ChannelItems.drop`: the record is deleted only while it still names the payload's copy,
   * and the other nodes are told that the copy will never be complete.
   */
  async drop(channel: Channel, publication: Publication): Promise<void> {
    const { copy } = publication;
    const latest = channel.latest;
    if (latest && (latest === publication || latest.copy?.name === copy?.name)) {
      channel.latest = undefined; // read again when asked: another node may have a newer one
      this.#host.retire(latest);
    }
    if (copy) {
      const now = await this.records.read(channel.key);
      if (now.bytes && now.record?.copy === copy.name) {
        const trash = now.record.keptIn === "store" ? copy.name : undefined;
        if ((await this.records.update(channel.key, now.bytes, undefined, trash)) !== false) {
          this.records.name(channel.key, undefined);
        }
      }
      if (copy.keptIn === "store") this.#host.news.failed(channel.key, copy.name);
    }
    this.#host.retire(publication);
  }

  /**
   * Reads `channel`'s record again, as another node may have replaced it (in the channel's
   * queue). A record naming another copy than the latest in memory becomes the latest, the one
   * it replaces retired. True when the channel got a new latest to deliver.
   */
  async reload(channel: Channel): Promise<boolean> {
    const now = await this.records.read(channel.key);
    const latest = channel.latest;
    if (latest && now.record && latest.copy?.name === now.record.copy) {
      if (latest.remote) catchUp(latest, now);
      return false;
    }
    if (latest === null && now.record === undefined) return false;
    if (latest) this.#host.retire(latest);
    channel.latest = now.record ? await this.#host.revive(channel, now) : null;
    return channel.latest !== null;
  }

  /**
   * Another node said channel `key`'s record names store copy `copy` now (or nothing): the
   * limits count it instead of the one it replaced.
   */
  heard(key: ChannelKey, copy: string | undefined, size: number, charged: KeptIn): void {
    const id = copy && copyId("store", copy);
    if (id) this.#host.budget.reserve(id, charged, size);
    this.records.name(key, id);
  }
}

/** Brings a remote payload up to what the store says of it (its node's news may be lost). */
function catchUp(publication: Publication, now: ReadRecord): void {
  publication.stored = now.bytes;
  const sha256 = now.record?.sha256;
  if (sha256 === undefined || publication.complete) return;
  publication.advance(publication.meta.size);
  publication.completed(Buffer.from(sha256, "hex"));
}
