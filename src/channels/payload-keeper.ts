// Copies a kept payload's bytes from memory into its durable copy as they arrive: beside the
// delivery path, never in front of it. Deliveries read memory as bytes arrive; the keeper is
// one more holder of the memory window, so a disk slower than the network holds the publisher
// back (memory stays bounded), never a receiver.

import type { PayloadBuffer } from "./payload-buffer.js";
import type { PayloadCopy } from "./payload-copy.js";

/**
 * The largest piece written at once: what has arrived since the last write, up to this. Pieces
 * are what the store holds per value, so a late delivery's read touches a few of them.
 */
export const keptPieceBytes = 1024 * 1024;

/** The copy's side of the buffer's backing, kept up to date by `keepPayload`. */
export interface KeeperState {
  writing: boolean;
}

/**
 * Writes the bytes of `buffer` from `copy.written` on into `copy`, in pieces, until all `size`
 * are written; the buffer is told after each piece so it can let memory go. Rejects when the
 * payload fails or the copy cannot be written; `state.writing` is false once it ends either way.
 * `onWritten` hears of each piece once it can be read back (other nodes are told: they read it).
 */
export async function keepPayload(
  buffer: PayloadBuffer,
  copy: PayloadCopy,
  state: KeeperState,
  onWritten?: (written: number) => void,
): Promise<void> {
  try {
    while (copy.written < buffer.size) {
      const received = await buffer.whenReceived(copy.written);
      const take = Math.min(received - copy.written, keptPieceBytes);
      await copy.append(await buffer.read(copy.written, take));
      buffer.backingMoved();
      onWritten?.(copy.written);
    }
  } finally {
    state.writing = false;
    buffer.backingMoved();
  }
}
