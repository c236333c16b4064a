// A range scan read in pages, shared by the drivers: each page is one short read (an LMDB read
// transaction, a Postgres query) that continues after the last key of the one before, so a slow
// consumer never holds a transaction open, and the limit counts across pages.

import type { RangeOptions, StoreEntry, StoreKey } from "./store.js";
import { type ByteRange, prefixRangeBounds, rangeLimit } from "./store-key.js";

/** One page: its entries in scan order, and the encoded key of its last one. */
export interface ScanPage {
  readonly entries: readonly StoreEntry[];
  readonly lastKey: Buffer | undefined;
}

/** How a driver reads a page of `bounds`, after `after` (exclusive) when given. */
export type PageReader = (
  bounds: ByteRange,
  reverse: boolean,
  after: Buffer | undefined,
  limit: number,
) => ScanPage | Promise<ScanPage>;

/**
 * The entries of `range(prefix, options)`, read `pageSize` at a time with `readPage`.
 * `assertOpen` runs before each entry is handed out: one read before close is not after it.
 */
export async function* pagedScan(
  prefix: StoreKey,
  options: RangeOptions,
  pageSize: number,
  readPage: PageReader,
  assertOpen: () => void,
): AsyncGenerator<StoreEntry> {
  assertOpen();
  const bounds = prefixRangeBounds(prefix, options);
  const reverse = options.reverse === true;
  let remaining = rangeLimit(options);
  let after: Buffer | undefined;
  while (remaining > 0) {
    const size = Math.min(pageSize, remaining);
    const page = await readPage(bounds, reverse, after, size);
    for (const entry of page.entries) {
      assertOpen();
      yield entry;
    }
    if (page.entries.length < size) return;
    remaining -= page.entries.length;
    after = page.lastKey;
  }
}
