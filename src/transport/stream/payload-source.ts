// Random-access reads of a payload (the sender's source, the receiver's already-held prefix) that
// insist on exact lengths: a short read means the file changed under the transfer.

import { createError } from "../../protocol/errors.js";

/**
 * Reads `length` bytes at `offset` of a payload, e.g. from a file handle or a buffer. The payload
 * must not change while a transfer uses it: the sender may read a range twice (after a resume),
 * and the whole-payload SHA-256 is only meaningful for fixed bytes.
 */
export type ReadBytes = (offset: number, length: number) => Promise<Uint8Array>;

/** The largest read a stream makes at once unless told otherwise (one default chunk). */
export const defaultReadSize = 65_536;

/**
 * Calls `read` and checks that it returned exactly `length` bytes; ERR_STREAM_SOURCE otherwise.
 * `context` names the stream and the source for the message (e.g. `stream t1: source`).
 */
export async function readExact(
  read: ReadBytes,
  offset: number,
  length: number,
  context: string,
): Promise<Uint8Array> {
  const bytes = await read(offset, length);
  if (!(bytes instanceof Uint8Array) || bytes.length !== length) {
    const got = bytes instanceof Uint8Array ? `${bytes.length} bytes` : typeof bytes;
    throw createError(
      "ERR_STREAM_SOURCE",
      `${context}: read of ${length} bytes at offset ${offset} returned ${got}`,
    );
  }
  return bytes;
}
