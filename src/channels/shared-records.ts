// Channel records when several nodes share the store. One node's view of a channel (its latest
// in memory) can be stale: another node may have published on it meanwhile. So every change of a
// record here expects the bytes the node last saw (a conditional write, ERR_STORE_CONFLICT when
// they changed), and a new payload, which replaces whatever is there, reads the record first and
// marks the copy it replaces as trash in the same batch. Bytes are deleted only once no record
// names them, so a node never deletes a copy another node made the latest again.

import { isSynclineError } from "../protocol/errors.js";
import type { Store, StoreOp } from "../storage/store.js";
import {
  type ChannelKey,
  decodeItem,
  type ItemRecord,
  itemKey,
  putItemOp,
  trashOp,
} from "./channel-records.js";
import type { KeepBudget } from "./keep-budget.js";

/** A record as read: its bytes (what a change expects) and what they say. */
export interface ReadRecord {
  readonly bytes: Uint8Array | undefined;
  readonly record: ItemRecord | undefined;
}

/** Tries of a replacement racing other nodes' writes before it gives up. */
const maxTries = 8;

const encoder = new TextEncoder();

/** The bytes `putItemOp` stores for `record`: what a later change of it expects. */
export function recordBytes(record: ItemRecord): Uint8Array {
  return encoder.encode(JSON.stringify(record));
}

/** Conditional record changes on a store several nodes share. */
export class SharedRecords {
  readonly #store: Store;
  readonly #budget: KeepBudget;
  /** The copy id each channel's record named when this node last knew, by channel. */
  readonly #named = new Map<string, string>();

  constructor(store: Store, budget: KeepBudget) {
    this.#store = store;
    this.#budget = budget;
  }

  /**
   * Channel `key`'s record names copy `id` now (undefined: none), as this node wrote, read or
   * heard: the copy it named before is no longer counted in this node's limits, whoever
   * deletes its bytes (otherwise a copy another node replaced would be counted here for ever).
   */
  name(key: ChannelKey, id: string | undefined): void {
    const channel = `${key.user}\n${key.name}`;
    const before = this.#named.get(channel);
    if (before !== undefined && before !== id) this.#budget.release(before);
    if (id === undefined) this.#named.delete(channel);
    else this.#named.set(channel, id);
  }

  /** The channel's record now. */
  async read(key: ChannelKey): Promise<ReadRecord> {
    const bytes = await this.#store.get(itemKey(key));
    return { bytes, record: bytes && decodeItem(bytes) };
  }

  /**
   * Makes `record` the channel's record (undefined: none) whatever it is now, trashing the store
   * copy of the record it replaces. Resolves with the bytes written and the record replaced.
   */
  async replace(
    key: ChannelKey,
    record: ItemRecord | undefined,
  ): Promise<{ bytes: Uint8Array | undefined; replaced: ItemRecord | undefined }> {
    for (let tries = 1; ; tries++) {
      const now = await this.read(key);
      const ops: StoreOp[] = [{ type: "expect", key: itemKey(key), value: now.bytes }];
      ops.push(record ? putItemOp(key, record) : { type: "delete", key: itemKey(key) });
      const old = now.record;
      if (old?.keptIn === "store" && old.copy !== record?.copy) ops.push(trashOp(key, old.copy));
      try {
        await this.#store.write(ops);
        return { bytes: record && recordBytes(record), replaced: old };
      } catch (error) {
        if (!isConflict(error) || tries >= maxTries) throw error;
      }
    }
  }

  /**
   * Changes the record to `record` (undefined: deletes it, trashing its store copy) only if it
   * is still `expected`. Resolves with the bytes written, or false when another node changed it.
   */
  async update(
    key: ChannelKey,
    expected: Uint8Array,
    record: ItemRecord | undefined,
    trash?: string,
  ): Promise<Uint8Array | undefined | false> {
    const ops: StoreOp[] = [{ type: "expect", key: itemKey(key), value: expected }];
    ops.push(record ? putItemOp(key, record) : { type: "delete", key: itemKey(key) });
    if (trash !== undefined) ops.push(trashOp(key, trash));
    try {
      await this.#store.write(ops);
    } catch (error) {
      if (isConflict(error)) return false;
      throw error;
    }
    return record && recordBytes(record);
  }

  /** True when the channel's record names the store copy `copy` now. */
  async names(key: ChannelKey, copy: string): Promise<boolean> {
    const { record } = await this.read(key);
    return record?.keptIn === "store" && record.copy === copy;
  }
}

/** The condition every append to a copy carries: the record is still `bytes`. */
export function fenceOp(key: ChannelKey, bytes: Uint8Array): StoreOp {
  return { type: "expect", key: itemKey(key), value: bytes };
}

function isConflict(error: unknown): boolean {
  return isSynclineError(error) && error.code === "ERR_STORE_CONFLICT";
}
