// A large payload without a large buffer: a 1 MiB random block repeated, read at any offset.

import { randomBytes } from "node:crypto";

const blockSize = 1024 * 1024;
const block = randomBytes(blockSize);

/** Bytes [offset, offset + length) of the repeated block; `length` must not cross a block edge. */
export function patternBytes(offset: number, length: number): Uint8Array {
  const start = offset % blockSize;
  if (start + length <= blockSize) return block.subarray(start, start + length);
  const out = Buffer.allocUnsafe(length);
  let filled = 0;
  while (filled < length) {
    const at = (offset + filled) % blockSize;
    const take = Math.min(blockSize - at, length - filled);
    block.copy(out, filled, at, at + take);
    filled += take;
  }
  return out;
}
