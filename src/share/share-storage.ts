// Where a share lives in the store, and how it is read back (a StoredShare). Layout, under ["share", <id>]:
//   meta            → {sessionID, secretHash, createdAt, epoch} (JSON; no epoch before epochs)
//   seq             → the seq of the last durable write (decimal text)
//   item, <key>     → the item's content (JSON text, as received)
//   written         → when it was last created or synced (ms since the epoch, decimal text;
//                     absent in shares stored before writes were timed)
//   log, <seq>      → with several nodes only: the write of that seq (CBOR [key, content JSON]),
//                     the latest `shareCatchupFrames` of them, so that any node can bring its
//                     copy and its viewers up to date gap-free (<seq> is 12 decimal digits)
// One prefix per share, so a delete is one atomic deletePrefix.

import { randomBytes } from "node:crypto";
import { decode, encode } from "cbor-x";
import { isShareEpoch } from "../protocol/share-frames.js";
import type { ShareId } from "../protocol/share-items.js";
import type { StoreEntry, StoreKey, StoreOp } from "../storage/store.js";

/** The first segment of every share record. */
export const shareRoot = "share";

/** What is stored about a share besides its items. */
export interface ShareMeta {
  readonly sessionID: string;
  /** SHA-256 of the secret, hex (share-secret.ts); the secret itself is never stored. */
  readonly secretHash: string;
  /** Creation time, ms since the epoch. */
  readonly createdAt: number;
  /**
   * The share's epoch (share-frames.ts `initialEpochEntry`): random, fixed at create. Absent in
   * shares stored before epochs; `epochOf` then derives one from `createdAt`.
   */
  readonly epoch?: string;
}

/**
 * A new epoch: 96 random bits as 16 characters of base64url. Not `createdAt` alone: a delete and
 * a re-create in the same millisecond (or after the clock stepped back) would share it.
 */
export function generateEpoch(): string {
  return randomBytes(12).toString("base64url");
}

/**
 * The epoch of a share: the stored one; for a share stored before epochs, `c<createdAt>` (stable,
 * and never equal to a generated one: those are 16 characters of base64url, this is "c" and
 * digits); undefined (unknown) when neither is usable.
 */
export function epochOf(meta: ShareMeta): string | undefined {
  if (isShareEpoch(meta.epoch)) return meta.epoch;
  const createdAt = (meta as { createdAt?: unknown }).createdAt;
  return typeof createdAt === "number" && Number.isSafeInteger(createdAt) && createdAt >= 0
    ? `c${createdAt}`
    : undefined;
}

/** A share as read from the store. */
export interface StoredShare {
  readonly meta: ShareMeta;
  readonly seq: number;
  /** key → content JSON, UTF-8 bytes as stored. */
  readonly items: Map<string, Uint8Array>;
  /** The logged writes (several nodes only), oldest first; none on one node. */
  readonly log?: LoggedWrite[];
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export const sharePrefix = (id: ShareId): StoreKey => [shareRoot, id];
export const metaKey = (id: ShareId): StoreKey => [shareRoot, id, "meta"];
export const seqKey = (id: ShareId): StoreKey => [shareRoot, id, "seq"];
export const itemKey = (id: ShareId, key: string): StoreKey => [shareRoot, id, "item", key];
export const writtenKey = (id: ShareId): StoreKey => [shareRoot, id, "written"];
const logSegment = (seq: number) => String(seq).padStart(12, "0");
export const logKey = (id: ShareId, seq: number): StoreKey => [
  shareRoot,
  id,
  "log",
  logSegment(seq),
];

/** A `written` value: the time as decimal text. */
function writtenValue(at: number): Uint8Array {
  return encoder.encode(String(at));
}

/** The time a `written` value holds, or undefined when it is not one. */
export function readWrittenAt(value: Uint8Array): number | undefined {
  const at = Number(decoder.decode(value));
  return Number.isSafeInteger(at) && at >= 0 ? at : undefined;
}

/** The batch creating a share: its meta and seq 0. */
export function createOps(id: ShareId, meta: ShareMeta): StoreOp[] {
  return [
    { type: "put", key: metaKey(id), value: encoder.encode(JSON.stringify(meta)) },
    { type: "put", key: seqKey(id), value: encoder.encode("0") },
    { type: "put", key: writtenKey(id), value: writtenValue(meta.createdAt) },
  ];
}

/** The batch of one sync: every item, then the share's new seq and write time (all or nothing). */
export function writeOps(
  id: ShareId,
  writes: readonly { key: string; json: string }[],
  seq: number,
  writtenAt: number,
): StoreOp[] {
  const ops: StoreOp[] = writes.map((write) => ({
    type: "put",
    key: itemKey(id, write.key),
    value: encoder.encode(write.json),
  }));
  ops.push({ type: "put", key: seqKey(id), value: encoder.encode(String(seq)) });
  ops.push({ type: "put", key: writtenKey(id), value: writtenValue(writtenAt) });
  return ops;
}

/** One logged write as the store keeps it for the other nodes. */
export interface LoggedWrite {
  readonly seq: number;
  readonly key: string;
  readonly json: string;
}

/**
 * The ops that make `writes` (the next seqs after `previousSeq`) one node's turn: the batch
 * applies only if the share's stored seq is still `previousSeq` (no other node wrote since this
 * one's copy was current), logs each write, and forgets the log entries `keep` seqs older.
 */
export function turnOps(
  id: ShareId,
  previousSeq: number,
  writes: readonly LoggedWrite[],
  keep: number,
): StoreOp[] {
  const ops: StoreOp[] = [
    { type: "expect", key: seqKey(id), value: encoder.encode(String(previousSeq)) },
  ];
  for (const write of writes) {
    ops.push({ type: "put", key: logKey(id, write.seq), value: encode([write.key, write.json]) });
    if (write.seq - keep > 0) ops.push({ type: "delete", key: logKey(id, write.seq - keep) });
  }
  return ops;
}

/** A log entry's write, or undefined when the bytes are not one. */
function decodeLogged(seqText: string | undefined, value: Uint8Array): LoggedWrite | undefined {
  const seq = Number(seqText);
  if (!Number.isSafeInteger(seq) || seq <= 0) return undefined;
  try {
    const entry = decode(value) as unknown;
    if (!Array.isArray(entry) || typeof entry[0] !== "string" || typeof entry[1] !== "string") {
      return undefined;
    }
    return { seq, key: entry[0], json: entry[1] };
  } catch {
    return undefined;
  }
}

/**
 * What the store holds of a share after `seq`: `writes`, the logged writes `seq + 1 …` in order
 * and without a gap up to the stored seq; undefined `writes` when the log cannot tell (trimmed
 * past `seq`, or missing an entry); `deleted` when the share is no longer stored.
 */
export async function readWritesAfter(
  store: {
    get(key: StoreKey): Promise<Uint8Array | undefined>;
    range(prefix: StoreKey, options?: { start?: StoreKey }): AsyncIterable<StoreEntry>;
  },
  id: ShareId,
  seq: number,
): Promise<{ deleted: true } | { deleted: false; storedSeq: number; writes?: LoggedWrite[] }> {
  const seqBytes = await store.get(seqKey(id));
  if (seqBytes === undefined) return { deleted: true };
  const storedSeq = Number(decoder.decode(seqBytes));
  if (!Number.isSafeInteger(storedSeq)) return { deleted: false, storedSeq: seq };
  const writes: LoggedWrite[] = [];
  if (storedSeq <= seq) return { deleted: false, storedSeq, writes };
  for await (const entry of store.range([shareRoot, id, "log"], { start: logKey(id, seq + 1) })) {
    const write = decodeLogged(entry.key[3], entry.value);
    if (write === undefined || write.seq !== seq + writes.length + 1) break;
    if (write.seq > storedSeq) break;
    writes.push(write);
  }
  const complete = writes.length === storedSeq - seq;
  return complete ? { deleted: false, storedSeq, writes } : { deleted: false, storedSeq };
}

/** A share's stored seq: the seq of its latest durable write; undefined when it is not stored. */
export async function readStoredSeq(
  store: { get(key: StoreKey): Promise<Uint8Array | undefined> },
  id: ShareId,
): Promise<number | undefined> {
  const bytes = await store.get(seqKey(id));
  if (bytes === undefined) return undefined;
  const seq = Number(decoder.decode(bytes));
  return Number.isSafeInteger(seq) ? seq : undefined;
}

/** Reads a share's meta only (cheap existence check), or undefined. */
export async function readMeta(
  get: (key: StoreKey) => Promise<Uint8Array | undefined>,
  id: ShareId,
): Promise<ShareMeta | undefined> {
  const bytes = await get(metaKey(id));
  return bytes && (JSON.parse(decoder.decode(bytes)) as ShareMeta);
}

/** Reads a whole share (its logged writes too when `withLog`), or undefined when there is none. */
export async function readShare(
  store: {
    get(key: StoreKey): Promise<Uint8Array | undefined>;
    range(prefix: StoreKey): AsyncIterable<{ key: StoreKey; value: Uint8Array }>;
  },
  id: ShareId,
  withLog = false,
): Promise<StoredShare | undefined> {
  const meta = await readMeta((key) => store.get(key), id);
  if (!meta) return undefined;
  const seqBytes = await store.get(seqKey(id));
  const seq = seqBytes ? Number(decoder.decode(seqBytes)) : 0;
  const items = new Map<string, Uint8Array>();
  for await (const entry of store.range([shareRoot, id, "item"])) {
    const key = entry.key[3];
    if (key !== undefined) items.set(key, entry.value);
  }
  const log: LoggedWrite[] = [];
  if (withLog) {
    for await (const entry of store.range([shareRoot, id, "log"])) {
      const write = decodeLogged(entry.key[3], entry.value);
      if (write !== undefined) log.push(write);
    }
  }
  return { meta, seq: Number.isSafeInteger(seq) ? seq : 0, items, log };
}
