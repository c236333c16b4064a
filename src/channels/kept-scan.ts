// What a starting hub finds kept: every channel's record (counted against the limits by the
// caller), the unfinished uploads among them, the bytes a crash left marked as trash (deleted
// now) and spool files no record names (deleted too).

import type { Store } from "../storage/store.js";
import type { WireLogger } from "../transport/wire-server.js";
import {
  type ChannelKey,
  channelOfKey,
  dataPrefix,
  decodeItem,
  type ItemRecord,
  itemRoot,
  trashRoot,
} from "./channel-records.js";
import type { PayloadSpool } from "./payload-spool.js";

/** An unfinished upload found in the store at start: its publisher may still resume it. */
export interface UnfinishedItem {
  readonly key: ChannelKey;
  readonly transferId: string;
}

/**
 * Prepares the spool folder, hands each readable record to `found`, deletes the bytes marked as
 * trash and the spool files no record names. Returns the unfinished items.
 */
export async function scanKept(
  store: Store,
  spool: PayloadSpool,
  logger: WireLogger,
  found: (key: ChannelKey, record: ItemRecord) => void,
): Promise<UnfinishedItem[]> {
  await spool.prepare();
  const unfinished: UnfinishedItem[] = [];
  const spoolFiles = new Set<string>();
  for await (const entry of store.range([itemRoot])) {
    const key = channelOfKey(entry.key, itemRoot, 3);
    const record = decodeItem(entry.value);
    if (!key || !record) {
      logger.warn({ key: entry.key }, "channels: unreadable item record ignored");
      continue;
    }
    found(key, record);
    if (record.keptIn === "spool") spoolFiles.add(record.copy);
    if (record.sha256 === undefined) unfinished.push({ key, transferId: record.transferId });
  }
  await emptyTrash(store);
  await spool.removeExcept(spoolFiles);
  return unfinished;
}

/** Deletes the bytes marked as trash (a crash came before their deletion). */
async function emptyTrash(store: Store): Promise<void> {
  for await (const entry of store.range([trashRoot])) {
    const key = channelOfKey(entry.key, trashRoot, 4);
    const copy = entry.key[3];
    if (!key || copy === undefined) continue;
    await store.deletePrefix(dataPrefix(key, copy));
    await store.write([{ type: "delete", key: entry.key }]);
  }
}
