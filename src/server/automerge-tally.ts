// The automerge path's per-message figures, summed in plain numbers and handed to prom-client
// when /metrics is read. prom-client hashes and checks the labels of every labelled inc() and
// searches a histogram's buckets on every observe(); called for each sync message and each
// document load, that was 2% of the server's CPU while a client pushed 2,000 documents.

import type { Counter, Histogram } from "prom-client";

/** The metrics a tally is flushed into. */
export interface TallyTarget {
  readonly documentsLoaded: Counter;
  readonly loadDuration: Histogram;
  readonly syncMessages: Counter<"direction">;
  readonly syncBytes: Counter<"direction">;
}

/** Load times held between scrapes at most; more are flushed at once (memory stays bounded). */
const maxHeldLoads = 4096;

/** Sums sync messages and document loads until `flush`. */
export class AutomergeTally {
  readonly #messages = { in: 0, out: 0 };
  readonly #bytes = { in: 0, out: 0 };
  readonly #loads: number[] = [];
  readonly #target: () => TallyTarget;

  /** `target` is asked for lazily: the metrics it returns flush this tally when collected. */
  constructor(target: () => TallyTarget) {
    this.#target = target;
  }

  /** Load times summed and not yet handed to the histogram. */
  get heldLoads(): number {
    return this.#loads.length;
  }

  /** One sync message of `bytes` of sync data, received (in) or sent (out). */
  sync(direction: "in" | "out", bytes: number): void {
    this.#messages[direction]++;
    this.#bytes[direction] += bytes;
  }

  /** One document loaded, in `seconds`. */
  load(seconds: number): void {
    this.#loads.push(seconds);
    if (this.#loads.length >= maxHeldLoads) this.flush();
  }

  /** Hands everything summed since the last flush to the metrics. */
  flush(): void {
    const target = this.#target();
    for (const direction of ["in", "out"] as const) {
      const messages = this.#messages[direction];
      if (messages > 0) target.syncMessages.inc({ direction }, messages);
      const bytes = this.#bytes[direction];
      if (bytes > 0) target.syncBytes.inc({ direction }, bytes);
      this.#messages[direction] = 0;
      this.#bytes[direction] = 0;
    }
    if (this.#loads.length > 0) {
      target.documentsLoaded.inc(this.#loads.length);
      for (const seconds of this.#loads) target.loadDuration.observe(seconds);
      this.#loads.length = 0;
    }
  }
}
