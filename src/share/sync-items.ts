// Turns the items of a sync request into writes: each item validated against the key schema
// (others are ignored, and the answer says why), serialized once, checked against the item
// size limit, deduplicated by key (the last one wins). Pure.

import { keyOfItem, parseShareKey, type ShareItem } from "../protocol/share-items.js";
import { tooLarge } from "./share-errors.js";
import type { ItemWrite } from "./share-state.js";

/** Most items one `POST /api/share/:id/sync` may carry; more → 413, nothing applied. */
export const maxSyncItems = 10_000;

/** Most `ignored` entries a sync answer lists; `ignoredCount` gives the total. */
export const maxIgnoredListed = 100;

/**
 * Refuses (413 ERR_SHARE_TOO_LARGE) a sync of more than `maxItems` items before any of them is
 * looked at: every item costs work and, when ignored, an entry in the answer.
 */
export function checkItemCount(count: number, maxItems: number = maxSyncItems): void {
  if (count > maxItems) {
    throw tooLarge(
      `share sync: the request has ${count} items, more than the limit of ${maxItems} per request; nothing was applied`,
    );
  }
}

/** A sync answer with its `ignored` list cut to the first `maxListed` and the total beside it. */
export function capIgnored<T extends { readonly ignored: readonly ItemProblem[] }>(
  answer: T,
  maxListed: number = maxIgnoredListed,
): T & { ignoredCount: number } {
  const { ignored } = answer;
  return { ...answer, ignored: ignored.slice(0, maxListed), ignoredCount: ignored.length };
}

/** An item left out, with where it was and why. */
export interface ItemProblem {
  /** Its index in the request's `data` (0 for the single item of `/share_sync`). */
  readonly index: number;
  /** Its key, when it has one. */
  readonly key?: string;
  /** ERR_SHARE_TOO_LARGE for an item refused for its size; absent for one off the key schema. */
  readonly code?: "ERR_SHARE_TOO_LARGE";
  readonly reason: string;
}

/** The outcome of checking a request's items. */
export interface PreparedItems {
  /**
   * Valid writes in key order, one per key (the last value of a key wins). Key order puts a
   * session's info before its messages and every message before the parts of the same request,
   * so a viewer that files a part under its message (OpenCode's) never gets the part first.
   */
  readonly writes: ItemWrite[];
  /** Items not stored and not broadcast, reported back in the 200 answer. */
  readonly ignored: ItemProblem[];
  /** Items over the size limit: the whole request is refused with 413 when there are any. */
  readonly tooLarge: ItemProblem[];
}

/** Checks the `data` items of `POST /api/share/:id/sync` for the share of `sessionID`. */
export function prepareItems(
  data: readonly unknown[],
  sessionID: string,
  maxItemBytes: number,
): PreparedItems {
  const collector = new ItemCollector(maxItemBytes);
  data.forEach((item, index) => {
    if (!isItem(item)) {
      collector.ignore({ index, reason: `item ${index}: must be an object {type, data}` });
      return;
    }
    const result = keyOfItem(item, sessionID);
    if ("reason" in result) {
      collector.ignore({ index, reason: `item ${index}: ${result.reason}` });
      return;
    }
    collector.write(index, result.key, item.data);
  });
  return collector.result();
}

/** Checks the single `{key, content}` of the older `POST /share_sync`. */
export function prepareKeyWrite(
  key: unknown,
  content: unknown,
  sessionID: string,
  maxItemBytes: number,
): PreparedItems {
  const collector = new ItemCollector(maxItemBytes);
  const parsed = typeof key === "string" ? parseShareKey(key) : undefined;
  if (typeof key !== "string" || !parsed) {
    const reason = `key ${JSON.stringify(key) ?? "undefined"} does not match the key schema`;
    collector.ignore({ index: 0, reason });
  } else if (parsed.sessionID !== sessionID) {
    const reason = `key ${JSON.stringify(key)} names session ${JSON.stringify(parsed.sessionID)}, not the share's session ${JSON.stringify(sessionID)}`;
    collector.ignore({ index: 0, key, reason });
  } else if (content === undefined) {
    collector.ignore({ index: 0, key, reason: `key ${JSON.stringify(key)}: content is missing` });
  } else {
    collector.write(0, key, content);
  }
  return collector.result();
}

/** Gathers one request's writes and problems, whichever of the two request shapes it was. */
class ItemCollector {
  readonly #byKey = new Map<string, ItemWrite>();
  readonly #ignored: ItemProblem[] = [];
  readonly #tooLarge: ItemProblem[] = [];
  readonly #maxItemBytes: number;

  constructor(maxItemBytes: number) {
    this.#maxItemBytes = maxItemBytes;
  }

  ignore(problem: ItemProblem): void {
    this.#ignored.push(problem);
  }

  /** Serializes `content` once; over the limit it is a problem, else the key's latest write. */
  write(index: number, key: string, content: unknown): void {
    const json = JSON.stringify(content) ?? "null";
    const bytes = Buffer.byteLength(json);
    if (bytes > this.#maxItemBytes) {
      this.#tooLarge.push({
        index,
        key,
        code: "ERR_SHARE_TOO_LARGE",
        reason: `item ${index} (${key}) is ${bytes} bytes of JSON, more than the limit of ${this.#maxItemBytes}`,
      });
      // The last item of a key wins even when refused: an earlier value of it would be stale.
      this.#byKey.delete(key);
      return;
    }
    this.#byKey.set(key, { key, json });
  }

  result(): PreparedItems {
    const writes = [...this.#byKey.values()].sort((a, b) => (a.key < b.key ? -1 : 1));
    return { writes, ignored: this.#ignored, tooLarge: this.#tooLarge };
  }
}

/**
 * The items of a batch with those over the item limit refused alone: listed among the ignored
 * (in request order, with their code) while the others are applied. A publisher that sends a
 * window of updates in one request (OpenCode's clients) neither retries nor splits it, so one
 * oversized item must not take the rest of its batch with it.
 */
export function refuseTooLargeAlone(prepared: PreparedItems): PreparedItems {
  if (prepared.tooLarge.length === 0) return prepared;
  const ignored = [...prepared.ignored, ...prepared.tooLarge].sort((a, b) => a.index - b.index);
  return { writes: prepared.writes, ignored, tooLarge: [] };
}

function isItem(value: unknown): value is ShareItem {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    typeof (value as { type?: unknown }).type === "string"
  );
}
