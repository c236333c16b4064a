// The search for the highest rate a contender sustains: climb a ladder of rates until one fails,
// then bisect between the last that passed and the first that failed until they are within a
// relative resolution. The caller runs the probes (so it can interleave several searches, each
// contender's probe next to the other's under the same machine load) and records each outcome.
// A rate fails only after `tries` probes at it failed: on a shared machine one stall of another
// process's making can fail a single short probe at any rate.

/** One probe and its outcome. */
export interface Probe {
  readonly rate: number;
  readonly passed: boolean;
}

/** A search over whole rates, one probe at a time. */
export class RateSearch {
  readonly #ladder: readonly number[];
  readonly #resolution: number;
  readonly #tries: number;
  readonly #probes: Probe[] = [];
  #passed = 0;
  #failed: number | undefined;
  /** A rate that failed fewer than `tries` times in a row, to probe again. */
  #retry: { rate: number; failures: number } | undefined;

  /**
   * `ladder`: increasing rates to climb; `resolution`: stop when failed/passed − 1 ≤ it;
   * `tries`: probes a rate gets before it counts as failed.
   */
  constructor(ladder: readonly number[], resolution: number, tries = 1) {
    this.#ladder = ladder;
    this.#resolution = resolution;
    this.#tries = tries;
  }

  /** The rate to probe next, or undefined when the search is over. */
  next(): number | undefined {
    if (this.#retry) return this.#retry.rate;
    if (this.#failed === undefined) {
      // Still climbing: the next rung, or over when the ladder ran out with every rung passed.
      return this.#ladder.find((rate) => rate > this.#passed);
    }
    const gap = this.#failed - this.#passed;
    if (gap <= 1 || (this.#passed > 0 && gap <= this.#resolution * this.#passed)) return undefined;
    return Math.round((this.#passed + this.#failed) / 2);
  }

  /** Records the outcome of a probe at `rate`. */
  record(rate: number, passed: boolean): void {
    this.#probes.push({ rate, passed });
    const failures = this.#retry?.rate === rate ? this.#retry.failures + 1 : 1;
    this.#retry = undefined;
    if (passed) this.#passed = Math.max(this.#passed, rate);
    else if (failures < this.#tries) this.#retry = { rate, failures };
    else this.#failed = Math.min(this.#failed ?? rate, rate);
  }

  /** The highest rate that passed (0 when none did). */
  get highestPassed(): number {
    return this.#passed;
  }

  /** The lowest rate that failed (undefined when every probe passed: the ladder was too short). */
  get lowestFailed(): number | undefined {
    return this.#failed;
  }

  get probes(): readonly Probe[] {
    return this.#probes;
  }
}
