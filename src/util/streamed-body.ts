// A body too large to hand to a socket at once — a big share's state, to a viewer or an HTTP
// reader — written a batch at a time, the next only once the reader has taken the last: what a
// reader that stops reading pins is its position in the body and about one batch, not a copy of
// the body. The body's bytes are shared, never copied: every reader is handed the same buffers.

/** Bytes to stream, in units each written whole (a WebSocket frame must not be cut by a ping). */
export interface StreamedBody {
  /** Bytes of all the units together. */
  readonly byteLength: number;
  /** The units, in order; each call starts from the beginning. */
  units(): Iterable<readonly Uint8Array[]>;
}

/** Where a body is written: a socket, or an HTTP response. */
export interface BodySink {
  /**
   * Writes `parts` in order, in one go (one system call where it can); false when the sink is
   * closed or closing (nothing was written).
   */
  write(parts: readonly Uint8Array[]): boolean;
  /** True while more is queued than the sink wants (write no more until `drained`). */
  needsDrain(): boolean;
  /** Resolves true once the sink wants more, false once it closed. */
  drained(): Promise<boolean>;
}

/** Bytes written before waiting for the reader: a few TCP windows' worth, a few writes a MiB. */
export const streamBatchBytes = 64 * 1024;

/**
 * Writes `units` to `sink`, about `batchBytes` at a time, waiting for the sink to drain after
 * each batch that filled it (the last one too: once this resolves true, the reader has taken all
 * but what the sink holds below its high-water mark). Resolves false when the sink closed first.
 */
export async function writeStreamed(
  sink: BodySink,
  units: Iterable<readonly Uint8Array[]>,
  batchBytes = streamBatchBytes,
): Promise<boolean> {
  let batch: Uint8Array[] = [];
  let bytes = 0;
  const send = async (): Promise<boolean> => {
    const parts = batch;
    batch = [];
    bytes = 0;
    if (!sink.write(parts)) return false;
    return !sink.needsDrain() || (await sink.drained());
  };
  for (const unit of units) {
    for (const part of unit) {
      batch.push(part);
      bytes += part.byteLength;
    }
    if (bytes >= batchBytes && !(await send())) return false;
  }
  return batch.length === 0 || (await send());
}
