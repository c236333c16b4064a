// The in-memory state of one loaded share: the durable items (content kept as JSON bytes, so each
// write is serialized once and every reader is sent the same bytes), the sequence numbers, the
// writes assigned but not yet durable, the recent-writes log and the snapshot of the current seq.
// Pure: share-publisher.ts and loaded-shares.ts do the I/O around it.

import { encodeUpdateFrameJson } from "../protocol/share-frames.js";
import { EncodedFrame } from "./encoded-frame.js";
import { ShareLog, type ShareLogLimits } from "./share-log.js";
import { ShareSnapshot, StoredItem } from "./share-snapshot.js";

/** One item to write: its key and its content serialized as JSON. */
export interface ItemWrite {
  readonly key: string;
  readonly json: string;
}

/** A write with the sequence number it was given. */
export interface PlannedWrite extends ItemWrite {
  readonly seq: number;
}

/** The JSON byte length of one item's content, as the share size limit counts it. */
export function contentBytes(json: string | Buffer): number {
  return typeof json === "string" ? Buffer.byteLength(json) : json.byteLength;
}

/** True when `latest` (in flight as text, or durable as bytes) is exactly `json`. */
function sameContent(latest: string | Buffer | undefined, json: string): boolean {
  if (latest === undefined || typeof latest === "string") return latest === json;
  return latest.byteLength === Buffer.byteLength(json) && latest.toString("utf8") === json;
}

/** Content as read from the store (bytes, shared: never modified) or given as text (tests). */
function storedBytes(content: string | Uint8Array): Buffer {
  return typeof content === "string"
    ? Buffer.from(content)
    : Buffer.from(content.buffer, content.byteOffset, content.byteLength);
}

const byKey = (a: StoredItem, b: StoredItem) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/**
 * State of one share; `seq` counts durable writes, `assignedSeq` also those in flight. `bytes`
 * is the JSON byte length of every durable key's content, `plannedBytes` that of every key's
 * latest content, durable or in flight (what the share holds once its writes settle).
 */
export class ShareState {
  readonly #items = new Map<string, StoredItem>();
  /** Latest content assigned per key while its write is in flight (newest seq wins). */
  readonly #pending = new Map<string, PlannedWrite>();
  readonly #log: ShareLog<EncodedFrame>;
  #seq: number;
  #assignedSeq: number;
  #snapshot: ShareSnapshot | undefined;
  #bytes = 0;
  #plannedBytes: number;
  /** The share's epoch, carried by a full state (undefined: unknown, none is sent). */
  readonly epoch: string | undefined;

  constructor(
    items: ReadonlyMap<string, string | Uint8Array>,
    seq: number,
    logLimits: ShareLogLimits,
    epoch?: string,
  ) {
    for (const [key, content] of items) {
      const item = new StoredItem(key, storedBytes(content));
      this.#items.set(key, item);
      this.#bytes += item.content.byteLength;
    }
    this.#plannedBytes = this.#bytes;
    this.epoch = epoch;
    this.#seq = seq;
    this.#assignedSeq = seq;
    this.#log = new ShareLog<EncodedFrame>(logLimits);
  }

  /** The seq of the last durable write (0 for none). */
  get seq(): number {
    return this.#seq;
  }

  /** The seq of the last write assigned, durable or not. */
  get assignedSeq(): number {
    return this.#assignedSeq;
  }

  /** Number of durable items. */
  get itemCount(): number {
    return this.#items.size;
  }

  /** JSON bytes of the durable content of all keys. */
  get bytes(): number {
    return this.#bytes;
  }

  /** JSON bytes of the latest content of all keys, counting writes in flight. */
  get plannedBytes(): number {
    return this.#plannedBytes;
  }

  /**
   * How many bytes `writes` would add to `plannedBytes` (negative: they shrink the share): each
   * write counts its content less the key's latest content (durable or in flight). `writes` must
   * hold each key once (prepareItems keeps the last write of a key).
   */
  growth(writes: readonly ItemWrite[]): number {
    let growth = 0;
    for (const write of writes) {
      const latest = this.#latest(write.key);
      if (sameContent(latest, write.json)) continue;
      growth += contentBytes(write.json) - (latest === undefined ? 0 : contentBytes(latest));
    }
    return growth;
  }

  /**
   * Gives each write that changes its key the next seq, in order, and records it as in flight.
   * A write whose content equals the key's latest (durable or in flight) gets none: re-sending
   * the same items is a no-op, not a new broadcast.
   */
  plan(writes: readonly ItemWrite[]): PlannedWrite[] {
    const planned: PlannedWrite[] = [];
    for (const write of writes) {
      const latest = this.#latest(write.key);
      if (sameContent(latest, write.json)) continue;
      this.#plannedBytes +=
        contentBytes(write.json) - (latest === undefined ? 0 : contentBytes(latest));
      const entry = { key: write.key, json: write.json, seq: ++this.#assignedSeq };
      this.#pending.set(write.key, entry);
      planned.push(entry);
    }
    return planned;
  }

  /**
   * Applies writes made durable, which must be the next ones in seq order, and returns their
   * encoded update frames (encoded once here, sent as they are to every viewer).
   */
  commit(planned: readonly PlannedWrite[]): EncodedFrame[] {
    const frames: EncodedFrame[] = [];
    for (const write of planned) {
      if (write.seq !== this.#seq + 1) {
        throw new Error(`share state: commit of seq ${write.seq} after seq ${this.#seq}`);
      }
      this.#seq = write.seq;
      const item = new StoredItem(write.key, Buffer.from(write.json));
      const previous = this.#items.get(write.key);
      this.#bytes += item.content.byteLength - (previous?.content.byteLength ?? 0);
      this.#items.set(write.key, item);
      if (this.#pending.get(write.key)?.seq === write.seq) this.#pending.delete(write.key);
      const frame = new EncodedFrame(
        Buffer.from(encodeUpdateFrameJson(write.key, write.json, write.seq)),
      );
      this.#log.append(write.seq, frame);
      frames.push(frame);
    }
    if (planned.length > 0) this.#snapshot = undefined;
    return frames;
  }

  /**
   * Fills the catch-up log from writes another node logged in the store (oldest first): the run
   * of them that ends at this state's seq without a gap, so a viewer that reconnects with `since`
   * to this node gets only what it missed. Call on a state just loaded.
   */
  seedLog(writes: readonly PlannedWrite[]): void {
    let first = writes.length;
    while (first > 0) {
      const write = writes[first - 1] as PlannedWrite;
      if (write.seq !== this.#seq - (writes.length - first)) break;
      first--;
    }
    for (const write of writes.slice(first)) {
      const frame = encodeUpdateFrameJson(write.key, write.json, write.seq);
      this.#log.append(write.seq, new EncodedFrame(Buffer.from(frame)));
    }
  }

  /**
   * Forgets every write planned and not committed (their store write was refused), so that the
   * next plan starts from the durable state again. Only for a share whose writes are planned
   * one at a time (several nodes: share-nodes.ts), where nothing else is in flight.
   */
  abandonPlans(): void {
    this.#pending.clear();
    this.#assignedSeq = this.#seq;
    this.#plannedBytes = this.#bytes;
  }

  /**
   * The durable state now, built once per seq (sorting the keys; no content is copied): every
   * reader of this seq shares it, and readers of later seqs share the bytes of every key that did
   * not change.
   */
  snapshot(): ShareSnapshot {
    if (this.#snapshot?.seq !== this.#seq) {
      const items = [...this.#items.values()].sort(byKey);
      this.#snapshot = new ShareSnapshot(this.#seq, this.epoch, items);
    }
    return this.#snapshot;
  }

  /** The frames after `since`, or undefined when the log cannot tell (send the full state). */
  framesAfter(since: number): EncodedFrame[] | undefined {
    return this.#log.after(since, this.#seq)?.map((entry) => entry.frame);
  }

  /** The latest content of `key`: in flight (text), else durable (bytes). */
  #latest(key: string): string | Buffer | undefined {
    return this.#pending.get(key)?.json ?? this.#items.get(key)?.content;
  }
}
