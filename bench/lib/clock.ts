// The machine-wide monotonic clock (CLOCK_MONOTONIC through process.hrtime), in milliseconds with
// sub-millisecond precision. Every process on the machine reads the same clock, so a timestamp
// taken in one role and compared in another measures the time between them (unlike Date.now(),
// which is wall time in whole milliseconds, or performance.now(), which starts at each process).

/** Now on the machine's monotonic clock, ms. */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
