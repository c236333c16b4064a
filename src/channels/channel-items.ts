// The kept side of channels: which payload each channel keeps as its latest, where (the store or
// the spool), within which limits, and when its bytes are deleted. Every change of a channel's
// record runs in that channel's queue (Channel.run), so records never interleave.
// Several nodes sharing the store (`shared`): what differs is in shared-items.ts.

import type { Store, StoreOp } from "../storage/store.js";
import type { WireLogger } from "../transport/wire-server.js";
import type { ChannelSettings } from "./channel-hub-options.js";
import type { ChannelNews } from "./channel-news.js";
import {
  type ChannelKey,
  copyId,
  decodeItem,
  type ItemRecord,
  itemKey,
  type KeptIn,
  putItemOp,
  trashKey,
  trashOp,
} from "./channel-records.js";
import type { Channel } from "./channel-registry.js";
import { KeepBudget } from "./keep-budget.js";
import { scanKept, type UnfinishedItem } from "./kept-scan.js";
import { type PayloadCopy, StoreCopy } from "./payload-copy.js";
import { PayloadSpool } from "./payload-spool.js";
import { Publication, type PublicationMeta } from "./publication.js";
import { SharedItems } from "./shared-items.js";
import type { ReadRecord } from "./shared-records.js";

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
  /**
   * Several nodes share the store: this node's bus instance id (in the records it writes) and
   * whom to tell of its payloads. Absent: one node, as always.
   */
  readonly shared?: { readonly node: string; readonly news: ChannelNews };
}

export type { UnfinishedItem } from "./kept-scan.js";

/** Channels' kept items. */
export class ChannelItems {
  readonly budget: KeepBudget;
  readonly #store: Store;
  readonly #spool: PayloadSpool;
  readonly #options: ChannelItemsOptions;
  readonly #removed = new WeakSet<Publication>();
  /** Deletions and record writes under way, which closing waits for. */
  readonly #pending = new Set<Promise<unknown>>();
  /** Several nodes: what differs there. */
  readonly #shared: SharedItems | undefined;
  /** Several nodes: deletions of other nodes' replaced copies, waiting. */
  readonly #timers = new Set<NodeJS.Timeout>();
  #closing = false;

  constructor(options: ChannelItemsOptions) {
    this.#options = options;
    this.#store = options.store;
    this.#spool = new PayloadSpool(options.spoolFolder);
    this.budget = new KeepBudget(options.settings);
    const shared = options.shared;
    this.#shared =
      shared &&
      new SharedItems({
        store: options.store,
        budget: this.budget,
        logger: options.logger,
        node: shared.node,
        news: shared.news,
        make: (meta, copy) => this.#make(meta, copy),
        revive: (channel, read) => this.#revive(channel, read),
        retire: (publication) => this.retire(publication),
        removeLater: (key, copy) => this.#removeLater(key, copy),
      });
  }

  /**
   * Prepares the spool folder, counts every kept item against the limits, deletes the bytes a
   * crash left marked as trash and spool files no record names. Returns the unfinished items.
   */
  async start(): Promise<UnfinishedItem[]> {
    return scanKept(this.#store, this.#spool, this.#options.logger, (key, record) => {
      const id = copyId(record.keptIn, record.copy);
      this.budget.reserve(id, record.charged ?? record.keptIn, record.size);
      this.#shared?.records.name(key, id);
    });
  }

  /** Stops deleting anything (what is kept now is what a restart finds); waits for writes. */
  async close(): Promise<void> {
    this.#closing = true;
    for (const timer of this.#timers) clearTimeout(timer);
    await Promise.all(this.#pending);
  }

  /** Reads `channel`'s latest from the store, once (in the channel's queue). */
  async load(channel: Channel): Promise<void> {
    if (channel.latest !== undefined) return;
    const bytes = await this.#store.get(itemKey(channel.key));
    const record = bytes && decodeItem(bytes);
    channel.latest = record ? await this.#revive(channel, { bytes, record }) : null;
  }

  /**
   * Several nodes: reads `channel`'s record again, as another node may have replaced it (in the
   * channel's queue); true when the channel got a new latest to deliver. One node: `load`.
   */
  async reload(channel: Channel): Promise<boolean> {
    if (this.#shared) return this.#shared.reload(channel);
    await this.load(channel);
    return false;
  }

  /** Several nodes: another node said channel `key`'s record names store copy `copy` now. */
  heard(key: ChannelKey, copy: string | undefined, size: number, charged: KeptIn): void {
    this.#shared?.heard(key, copy, size, charged);
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
    if (this.#shared) {
      const record = copy && recordOf(meta, copy);
      const kept = copy as StoreCopy | undefined;
      return this.#shared.publish(channel, meta, kept, record, old?.copy?.name);
    }
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
    // Several nodes: only the store is shared; what one node spools is kept there too.
    if (keptIn !== undefined && this.#shared) return this.#shared.copyFor(key, meta, keptIn);
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
    // Replaced meanwhile: not kept. Several nodes: written to the end all the same, as other
    // nodes' deliveries of it read it from the store.
    if (!copy || !sha256 || (publication.retired && !this.#shared)) return false;
    await publication.keeper;
    await copy.sync();
    this.#options.shared?.news.completed(publication.key, copy.name, sha256);
    if (publication.retired) return false;
    const record = { ...recordOf(publication.meta, copy), sha256: hex(sha256) };
    if (this.#shared) {
      const expected = publication.stored;
      const next = this.#shared.recordOf(record);
      const stored =
        expected && (await this.#shared.records.update(publication.key, expected, next));
      if (!stored) return false; // another node replaced it meanwhile
      publication.stored = stored;
      return true;
    }
    await this.#store.write([putItemOp(publication.key, record)]);
    return true;
  }

  /** `channel` stops keeping `publication` (failed, expired, copy failed). In its queue. */
  async drop(channel: Channel, publication: Publication): Promise<void> {
    if (this.#closing) return;
    if (this.#shared) {
      await this.#shared.drop(channel, publication);
      return;
    }
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
    const id = copyId(copy.keptIn, copy.name);
    if (this.#shared) {
      // Several nodes: the budget follows the records (shared-records.ts), and receivers
      // elsewhere may still be reading the bytes from the store, so they go later.
      this.budget.release(id);
      this.#removeLater(key, copy);
      return;
    }
    // The reservation goes once the bytes are gone, so what is counted never falls below what
    // is stored. A delete that fails leaves its trash mark for the next start to finish; the
    // reservation goes all the same, or one disk fault would shrink the budget until a restart.
    const removed = this.#remove(key, copy).finally(() => this.budget.release(id));
    this.#track(removed, `channel ${meta.channel}: deleting a kept payload`);
  }

  /** Deletes `copy`'s bytes, then its trash mark. */
  async #remove(key: ChannelKey, copy: PayloadCopy): Promise<void> {
    // Several nodes: another node may have made this copy the latest again (never delete that).
    if (this.#shared && (await this.#shared.records.names(key, copy.name))) return;
    await copy.remove();
    await this.#store.write([{ type: "delete", key: trashKey(key, copy.name) }]);
  }

  /**
   * Several nodes: deletes a copy no record names (marked as trash) after `relayStallMs`, the
   * time a receiver on another node still reading it gets to finish. Not done by shutdown: the
   * trash mark stays, and the next start deletes it.
   */
  #removeLater(key: ChannelKey, copy: PayloadCopy | string): void {
    if (this.#closing) return;
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      if (this.#closing) return;
      const held = typeof copy === "string" ? new StoreCopy(this.#store, key, copy, 0) : copy;
      this.#track(this.#remove(key, held), `channel ${key.name}: deleting a replaced payload`);
    }, this.#options.settings.relayStallMs);
    timer.unref();
    this.#timers.add(timer);
  }

  /**
   * A publication from a stored record (complete, or unfinished and awaiting its publisher).
   * Several nodes: a remote one, read from the store (an unfinished one may be another node's
   * upload under way), and a spool file missing here may be another node's: its record stays.
   */
  async #revive(channel: Channel, read: ReadRecord): Promise<Publication | null> {
    const { bytes } = read;
    const record = read.record as ItemRecord;
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
      if (this.#shared && record.keptIn === "spool") {
        this.#options.logger.warn(
          { channel: meta.channel },
          "channels: the latest payload is in another node's spool folder; not served here",
        );
        return null;
      }
      this.#options.logger.warn(
        { channel: meta.channel, err: error },
        "channels: kept payload lost",
      );
      return this.#forget(channel, record, bytes);
    }
    const complete = record.sha256 !== undefined;
    if ((complete && copy.written !== record.size) || copy.written > record.size) {
      await copy.close();
      this.#options.logger.warn({ channel: meta.channel }, "channels: kept payload damaged");
      return this.#forget(channel, record, bytes);
    }
    const remote = this.#shared !== undefined && copy.keptIn === "store";
    const publication = this.#make(meta, copy, remote);
    if (this.#shared) publication.stored = bytes;
    if (record.sha256) publication.completed(Buffer.from(record.sha256, "hex"));
    return publication;
  }

  /** Deletes a record whose bytes are unusable; the channel then has no latest. */
  async #forget(
    channel: Channel,
    record: ItemRecord,
    bytes: Uint8Array | undefined,
  ): Promise<null> {
    const trash = record.keptIn === "store" ? record.copy : undefined;
    if (this.#shared && bytes) {
      // Only if no other node changed it meanwhile.
      await this.#shared.records.update(channel.key, bytes, undefined, trash);
    } else {
      const ops: StoreOp[] = [{ type: "delete", key: itemKey(channel.key) }];
      if (trash !== undefined) ops.push(trashOp(channel.key, trash));
      await this.#store.write(ops);
    }
    this.budget.release(copyId(record.keptIn, record.copy));
    return null;
  }

  #make(meta: PublicationMeta, copy: PayloadCopy | undefined, remote = false): Publication {
    const news = this.#options.shared?.news;
    const key = { user: meta.user, name: meta.channel };
    const publication = new Publication(meta, {
      ...(copy ? { copy } : {}),
      stallMs: this.#options.settings.relayStallMs,
      onHeld: this.#options.onHeld,
      ...(remote ? { remote } : {}),
      ...(news && copy && !remote
        ? { onWritten: (written: number) => news.progressed(key, copy.name, written) }
        : {}),
    });
    this.#options.adopt(publication);
    return publication;
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
