// Where channels keep their latest payloads in the store, and the records that describe them.
// Layout (every segment a string; `<user>` is `-` for the default user, which no user name can
// be):
//   channel-item  / <user> / <channel>                          → the channel's kept item (JSON)
//   channel-data  / <user> / <channel> / <copy> / <offset>  → the bytes of an item kept in the
//                                                              store, in pieces
//   channel-trash / <user> / <channel> / <copy>             → bytes no record refers to any more,
//                                                              being deleted
// `<copy>` names one kept copy: made locally (random hex), never from a peer, and never reused,
// so deleting an old copy cannot touch a newer one of the same transfer.
// A record is written at OPEN (no sha256 yet: the upload is unfinished, and a restarted server
// lets its publisher resume it) and again once the payload is complete and durable. Replacing or
// dropping a record marks the old item's bytes as trash in the same write, so a crash before
// they are deleted leaves nothing unaccounted: the next start deletes what is marked.

import type { StoreKey, StoreOp } from "../storage/store.js";

export const itemRoot = "channel-item";
export const dataRoot = "channel-data";
export const trashRoot = "channel-trash";

/** The store segment of the default user (keys without `syncline-user`). */
export const defaultUserSegment = "-";

/** A channel: its user's store segment and its name. */
export interface ChannelKey {
  readonly user: string;
  readonly name: string;
}

/** Where a kept item's bytes are: in the store, or in a file of the spool folder. */
export type KeptIn = "store" | "spool";

/** What the store says about a channel's kept item. */
export interface ItemRecord {
  readonly transferId: string;
  readonly size: number;
  readonly origin: string;
  readonly name?: string;
  readonly chunkSize: number;
  /** The publishing key's fingerprint (a resume must come from the same key). */
  readonly publisher: string;
  readonly keptIn: KeptIn;
  /** The copy's local name: its spool file's, or its pieces' key segment in the store. */
  readonly copy: string;
  /** SHA-256 of the payload, hex; absent while the upload is unfinished. */
  readonly sha256?: string;
  /** When the upload started, ms since the epoch. */
  readonly openedAt: number;
  /**
   * Several nodes: the bus instance id of the node that wrote the record. A node's changes of a
   * record expect the bytes it last saw, so this also tells two nodes' records apart.
   */
  readonly node?: string;
  /**
   * Several nodes: a payload above `retainBytes` kept in the store (a node's spool folder is not
   * shared) is counted against the spool's limits, as it would be on one node.
   */
  readonly charged?: "spool";
}

/** Spool file names: made locally (payload-spool.ts), checked when read back from the store. */
export const spoolFileName = /^[0-9a-f]{32}\.payload$/;

/** Names of copies in the store: made locally (payload-copy.ts), checked as spool names are. */
export const storeCopyName = /^[0-9a-f]{32}$/;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A stable id of one kept copy, for the keep budget. */
export function copyId(keptIn: KeptIn, copy: string): string {
  return `${keptIn}:${copy}`;
}

export function itemKey(key: ChannelKey): StoreKey {
  return [itemRoot, key.user, key.name];
}

export function dataPrefix(key: ChannelKey, copy: string): StoreKey {
  return [dataRoot, key.user, key.name, copy];
}

/** The key of the piece starting at `offset` (fixed width, so keys sort by offset). */
export function dataKey(key: ChannelKey, copy: string, offset: number): StoreKey {
  return [...dataPrefix(key, copy), String(offset).padStart(16, "0")];
}

export function trashKey(key: ChannelKey, copy: string): StoreKey {
  return [trashRoot, key.user, key.name, copy];
}

/** Puts `record` as the channel's item. */
export function putItemOp(key: ChannelKey, record: ItemRecord): StoreOp {
  return { type: "put", key: itemKey(key), value: encoder.encode(JSON.stringify(record)) };
}

/** Marks a copy's bytes in the store as trash (deleted once nothing reads them). */
export function trashOp(key: ChannelKey, copy: string): StoreOp {
  return { type: "put", key: trashKey(key, copy), value: new Uint8Array(0) };
}

/** The record in `bytes`, or undefined when it is not one (a damaged or foreign value). */
export function decodeItem(bytes: Uint8Array): ItemRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(bytes));
  } catch {
    return undefined;
  }
  return isItemRecord(value) ? value : undefined;
}

function isItemRecord(value: unknown): value is ItemRecord {
  if (typeof value !== "object" || value === null) return false;
  const record = value as Record<string, unknown>;
  const count = (field: string, min: number) =>
    Number.isSafeInteger(record[field]) && (record[field] as number) >= min;
  const text = (field: string) => typeof record[field] === "string" && record[field] !== "";
  return (
    text("transferId") &&
    text("origin") &&
    text("publisher") &&
    count("size", 0) &&
    count("chunkSize", 1) &&
    count("openedAt", 0) &&
    (record.name === undefined || text("name")) &&
    (record.node === undefined || text("node")) &&
    (record.charged === undefined || record.charged === "spool") &&
    (record.sha256 === undefined || /^[0-9a-f]{64}$/.test(String(record.sha256))) &&
    ((record.keptIn === "store" && storeCopyName.test(String(record.copy))) ||
      (record.keptIn === "spool" && spoolFileName.test(String(record.copy))))
  );
}

/** The channel an item or trash key names, or undefined for a key of another shape. */
export function channelOfKey(key: StoreKey, root: string, length: number): ChannelKey | undefined {
  const [first, user, name] = key;
  if (first !== root || key.length !== length || user === undefined || name === undefined) {
    return undefined;
  }
  return { user, name };
}
