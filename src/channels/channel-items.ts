// The kept side of channels: which payload each channel keeps as its latest, where (the store or
// the spool), within which limits, and when its bytes are deleted. Every change of a channel's
// record runs in that channel's queue (Channel.run), so records never interleave.

import type { Store, StoreOp } from "../storage/store.js";
import type { WireLogger } from "../transport/wire-server.js";
import type { ChannelSettings } from "./channel-hub-options.js";
import {
  type ChannelKey,
  channelOfKey,
  copyId,
  dataPrefix,
  decodeItem,
  type ItemRecord,
  itemKey,
  itemRoot,
  putItemOp,
  trashKey,
  trashOp,
  trashRoot,
} from "./channel-records.js";
import type { Channel } from "./channel-registry.js";
import { KeepBudget } from "./keep-budget.js";
import { type PayloadCopy, StoreCopy } from "./payload-copy.js";
import { PayloadSpool } from "./payload-spool.js";
import { Publication, type PublicationMeta } from "./publication.js";

/** What the kept side is built on. */
export interface ChannelItemsOptions {
  readonly store: Store;
  readonly spoolFolder: string;
  readonly settings: ChannelSettings;
  readonly logger: WireLogger;
  /** Told of changes of the payload bytes held in memory. */
  readonly onHeld: (delta: number) => void;
  /** Called for every publication made here, before anyone else sees it. */
  readonly adopt: (publication: Publication) => void;
}

/** An unfinished upload found in the store at start: its publisher may still resume it. */
export interface UnfinishedItem {
  readonly key: ChannelKey;
  readonly transferId: string;
}

/** Channels' kept items. */
export class ChannelItems {
  readonly budget: KeepBudget;
  readonly #store: Store;
  readonly #spool: PayloadSpool;
  readonly #options: ChannelItemsOptions;
  readonly #removed = new WeakSet<Publication>();
  /** Deletions and record writes under way, which closing waits for. */
  readonly #pending = new Set<Promise<unknown>>();
  #closing = false;

  constructor(options: ChannelItemsOptions) {
    this.#options = options;
    this.#store = options.store;
    this.#spool = new PayloadSpool(options.spoolFolder);
    this.budget = new KeepBudget(options.settings);
  }

  /**
   * Prepares the spool folder, counts every kept item against the limits, deletes the bytes a
   * crash left marked as trash and spool files no record names. Returns the unfinished items.
   */
  async start(): Promise<UnfinishedItem[]> {
    await this.#spool.prepare();
    const unfinished: UnfinishedItem[] = [];
    const spoolFiles = new Set<string>();
    for await (const entry of this.#store.range([itemRoot])) {
      const key = channelOfKey(entry.key, itemRoot, 3);
      const record = decodeItem(entry.value);
      if (!key || !record) {
        this.#options.logger.warn({ key: entry.key }, "channels: unreadable item record ignored");
        continue;
      }
      this.budget.reserve(copyId(record.keptIn, record.copy), record.keptIn, record.size);
      if (record.keptIn === "spool") spoolFiles.add(record.copy);
      if (record.sha256 === undefined) unfinished.push({ key, transferId: record.transferId });
    }
    await this.#emptyTrash();
    await this.#spool.removeExcept(spoolFiles);
    return unfinished;
  }

  /** Stops deleting anything (what is kept now is what a restart finds); waits for writes. */
  async close(): Promise<void> {
    this.#closing = true;
    await Promise.all(this.#pending);
  }

  /** Reads `channel`'s latest from the store, once (in the channel's queue). */
  async load(channel: Channel): Promise<void> {
    if (channel.latest !== undefined) return;
    const bytes = await this.#store.get(itemKey(channel.key));
    const record = bytes && decodeItem(bytes);
    channel.latest = record ? await this.#revive(channel, record) : null;
  }

  /**
   * A new publication for an OPEN on `channel`: it becomes the latest (kept in the store or the
   * spool when the limits allow, its record written at once) or, relayed only, leaves the
   * channel without a latest, as an older one would mislead. The one it replaces is retired.
   */
  async publish(channel: Channel, meta: PublicationMeta): Promise<Publication> {
    const old = channel.latest;
    // Retired first: an idle old latest releases its room for the new one at once (one still
    // being read keeps it until then, so replacing cannot pass the limits either).
    if (old) this.retire(old);
    const copy = await this.#copyFor(channel.key, meta);
    const publication = this.#make(meta, copy);
    channel.latest = copy ? publication : null;
    const ops: StoreOp[] = [
      copy
        ? putItemOp(channel.key, recordOf(meta, copy))
        : { type: "delete", key: itemKey(channel.key) },
    ];
    if (old?.copy?.keptIn === "store") ops.push(trashOp(channel.key, old.copy.name));
    this.#write(ops, `channel ${meta.channel}: record`);
    return publication;
  }

  /** The copy a new payload is kept in (reserved in the budget), or undefined: relayed only. */
  async #copyFor(key: ChannelKey, meta: PublicationMeta): Promise<PayloadCopy | undefined> {
    const keptIn = this.budget.choose(meta.size);
    if (keptIn === "store") {
      const copy = StoreCopy.create(this.#store, key);
      this.budget.reserve(copyId(keptIn, copy.name), keptIn, meta.size);
      return copy;
    }
    if (keptIn === undefined) return undefined;
    try {
      const copy = await this.#spool.create();
      this.budget.reserve(copyId(keptIn, copy.name), keptIn, meta.size);
      return copy;
    } catch (error) {
      this.#options.logger.warn({ channel: meta.channel, err: error }, "channels: cannot spool");
      return undefined;
    }
  }

  /**
   * Makes a finished kept publication the channel's durable latest: every byte written and
   * synced, then its record with the SHA-256. False when it is not kept (retired meanwhile, or
   * its copy failed: the caller drops it).
   */
  async commit(publication: Publication): Promise<boolean> {
    const { copy, sha256 } = publication;
    if (!copy || !sha256 || publication.retired) return false;
    await publication.keeper;
    await copy.sync();
    if (publication.retired) return false;
    const record = { ...recordOf(publication.meta, copy), sha256: hex(sha256) };
    await this.#store.write([putItemOp(publication.key, record)]);
    return true;
  }

  /** `channel` stops keeping `publication` (failed, expired, copy failed). In its queue. */
  async drop(channel: Channel, publication: Publication): Promise<void> {
    if (this.#closing) return;
    await this.load(channel);
    const latest = channel.latest;
    if (latest && sameItem(latest, publication)) {
      channel.latest = null;
      const ops: StoreOp[] = [{ type: "delete", key: itemKey(channel.key) }];
      if (latest.copy?.keptIn === "store") ops.push(trashOp(channel.key, latest.copy.name));
      await this.#store.write(ops);
      this.retire(latest);
    }
    this.retire(publication);
  }

  /** No longer a channel's latest: its bytes go once nothing reads them. */
  retire(publication: Publication): void {
    publication.retired = true;
    this.removeIfUnused(publication);
  }

  /** Deletes a retired publication's bytes and releases its reservation, once it is idle. */
  removeIfUnused(publication: Publication): void {
    if (!publication.retired || publication.active || this.#removed.has(publication)) return;
    this.#removed.add(publication);
    const { key, meta, copy } = publication;
    void publication.close();
    if (!copy || this.#closing) return;
    this.budget.release(copyId(copy.keptIn, copy.name));
    this.#track(
      copy
        .remove()
        .then(() => this.#store.write([{ type: "delete", key: trashKey(key, copy.name) }])),
      `channel ${meta.channel}: deleting a kept payload`,
    );
  }

  /** A publication from a stored record (complete, or unfinished and awaiting its publisher). */
  async #revive(channel: Channel, record: ItemRecord): Promise<Publication | null> {
    const meta: PublicationMeta = {
      transferId: record.transferId,
      channel: channel.key.name,
      size: record.size,
      origin: record.origin,
      name: record.name,
      chunkSize: record.chunkSize,
      publisher: record.publisher,
      user: channel.key.user,
    };
    let copy: PayloadCopy;
    try {
      copy =
        record.keptIn === "spool"
          ? await this.#spool.open(record.copy)
          : await StoreCopy.open(this.#store, channel.key, record.copy);
    } catch (error) {
      this.#options.logger.warn(
        { channel: meta.channel, err: error },
        "channels: kept payload lost",
      );
      return this.#forget(channel, record);
    }
    const complete = record.sha256 !== undefined;
    if ((complete && copy.written !== record.size) || copy.written > record.size) {
      await copy.close();
      this.#options.logger.warn({ channel: meta.channel }, "channels: kept payload damaged");
      return this.#forget(channel, record);
    }
    const publication = this.#make(meta, copy);
    if (record.sha256) publication.completed(Buffer.from(record.sha256, "hex"));
    return publication;
  }

  /** Deletes a record whose bytes are unusable; the channel then has no latest. */
  async #forget(channel: Channel, record: ItemRecord): Promise<null> {
    const ops: StoreOp[] = [{ type: "delete", key: itemKey(channel.key) }];
    if (record.keptIn === "store") ops.push(trashOp(channel.key, record.copy));
    await this.#store.write(ops);
    this.budget.release(copyId(record.keptIn, record.copy));
    return null;
  }

  #make(meta: PublicationMeta, copy: PayloadCopy | undefined): Publication {
    const publication = new Publication(meta, {
      ...(copy ? { copy } : {}),
      stallMs: this.#options.settings.relayStallMs,
      onHeld: this.#options.onHeld,
    });
    this.#options.adopt(publication);
    return publication;
  }

  /** Deletes the bytes marked as trash (a crash came before their deletion). */
  async #emptyTrash(): Promise<void> {
    for await (const entry of this.#store.range([trashRoot])) {
      const key = channelOfKey(entry.key, trashRoot, 4);
      const copy = entry.key[3];
      if (!key || copy === undefined) continue;
      await this.#store.deletePrefix(dataPrefix(key, copy));
      await this.#store.write([{ type: "delete", key: entry.key }]);
    }
  }

  /** Issues a write beside the caller's path; a failure is logged (the ACK then says so). */
  #write(ops: StoreOp[], what: string): void {
    if (ops.length > 0) this.#track(this.#store.write(ops), `${what}: write`);
  }

  /** Follows work beside the caller's path until it settles; a failure is logged. */
  #track(work: Promise<unknown>, what: string): void {
    const settled = work.catch((error: unknown) => {
      this.#options.logger.warn({ err: error }, `${what} failed`);
    });
    this.#pending.add(settled);
    void settled.then(() => this.#pending.delete(settled));
  }
}

function recordOf(meta: PublicationMeta, copy: PayloadCopy): ItemRecord {
  return {
    transferId: meta.transferId,
    size: meta.size,
    origin: meta.origin,
    ...(meta.name === undefined ? {} : { name: meta.name }),
    chunkSize: meta.chunkSize,
    publisher: meta.publisher,
    keptIn: copy.keptIn,
    copy: copy.name,
    openedAt: Date.now(),
  };
}

/** The same kept item, though maybe another object (read again from the store). */
function sameItem(a: Publication, b: Publication): boolean {
  return a === b || (a.copy !== undefined && a.copy.name === b.copy?.name);
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}
