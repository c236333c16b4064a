// What the share queue does with a batch once the server has answered, decided without timers or
// I/O so each answer's consequence is testable on its own: deliver, put back and retry, stop the
// session (401, 404), drop the items the server named, or halve a refused batch to find them.

import type { SynclineError } from "../../protocol/errors.js";
import type { Batch, DroppedItem } from "./session-batches.js";
import type { NamedItem, SyncOutcome } from "./share-http.js";

/** The queue's next step for a batch, from the server's answer to it. */
export type SyncAction =
  /**
   * Durable on the server; `ignored` names each ignored item the server listed by key where it
   * can, `ignoredCount` counts every item it ignored (listed or not).
   */
  | {
      readonly kind: "deliver";
      readonly seq: number | undefined;
      readonly keys: readonly string[];
      readonly ignored: readonly NamedItem[];
      readonly ignoredCount: number;
    }
  /**
   * As the server answered. retry (network error, 5xx): put the batch back and try again after a
   * backoff; unauthorized (401): the secret was refused; not-found (404): the share is gone.
   */
  | Extract<SyncOutcome, { kind: "retry" | "unauthorized" | "not-found" }>
  /** 400/413 naming items (or a batch of one): drop `dropped`, send `rest` (if any) next. */
  | {
      readonly kind: "drop";
      readonly status: number;
      readonly message: string;
      readonly error: SynclineError;
      readonly dropped: readonly DroppedItem[];
      readonly rest: Batch | undefined;
    }
  /** 400/413 naming nothing: send the two halves one after the other to find the culprits. */
  | { readonly kind: "bisect"; readonly halves: readonly [Batch, Batch] };

/** Decides what to do with `batch` (never empty) given the server's `outcome`. */
export function syncAction(batch: Batch, outcome: SyncOutcome): SyncAction {
  switch (outcome.kind) {
    case "ok": {
      const keys = [...batch.keys()];
      return {
        kind: "deliver",
        seq: outcome.seq,
        keys,
        ignored: outcome.ignored.map((named) => withKey(named, keys)),
        ignoredCount: outcome.ignoredCount,
      };
    }
    case "retry":
    case "unauthorized":
    case "not-found":
      return outcome;
    case "rejected":
      return rejectedAction(batch, outcome);
  }
}

/** Names an item by its key when the server gave only its index. */
function withKey(named: NamedItem, keys: readonly string[]): NamedItem {
  const key = named.index === undefined ? undefined : keys[named.index];
  return named.key === undefined && key !== undefined ? { ...named, key } : named;
}

function rejectedAction(
  batch: Batch,
  outcome: Extract<SyncOutcome, { kind: "rejected" }>,
): SyncAction {
  const entries = [...batch];
  const offending = new Map<string, DroppedItem>();
  for (const named of outcome.items) {
    const entry =
      named.index !== undefined ? entries[named.index] : entries.find(([key]) => key === named.key);
    if (entry === undefined) continue;
    const [key, item] = entry;
    offending.set(key, { key, item, ...(named.reason ? { reason: named.reason } : {}) });
  }
  if (offending.size === 0 && entries.length === 1) {
    // A batch of one that was refused: that item is the culprit, whatever the server named.
    const [key, item] = entries[0] as (typeof entries)[number];
    offending.set(key, { key, item, reason: outcome.message });
  }
  if (offending.size === 0) {
    const half = Math.ceil(entries.length / 2);
    return {
      kind: "bisect",
      halves: [new Map(entries.slice(0, half)), new Map(entries.slice(half))],
    };
  }
  const rest = new Map(entries.filter(([key]) => !offending.has(key)));
  return {
    kind: "drop",
    status: outcome.status,
    message: outcome.message,
    error: outcome.error,
    dropped: [...offending.values()],
    rest: rest.size > 0 ? rest : undefined,
  };
}
