// Open credit: how many payload bytes a peer may send on streams it opens *eagerly* — OPEN, DATA
// and END at once, without waiting for RESUME and CREDIT — counted across all such streams of one
// connection until each is acknowledged. A small payload (a clipboard item) then costs one trip
// per leg instead of two; the bound keeps what a peer can push unasked at one budget per
// connection. Each end announces its own figure (HELLO for the client, WELCOME for the server).

import { createError } from "../../protocol/errors.js";

/**
 * The open credit each end offers: 64 KiB, one small item's worth several times over, and a
 * fraction of what a single stream's credit window (4 MiB) already lets a peer put in flight.
 */
export const defaultOpenCredit = 64 * 1024;

/** A budget of bytes on eager streams not yet acknowledged, for one direction of a connection. */
export class OpenCredit {
  #limit: number;
  #inUse = 0;

  constructor(limit = 0) {
    this.#limit = checkLimit(limit);
  }

  /** The most bytes the budget holds. */
  get limit(): number {
    return this.#limit;
  }

  /** Bytes of eager streams not yet acknowledged. */
  get inUse(): number {
    return this.#inUse;
  }

  /** Sets the budget (from the peer's HELLO or WELCOME, or what this end announced). */
  setLimit(limit: number): void {
    this.#limit = checkLimit(limit);
  }

  /** Takes `bytes` if they fit; false (and nothing taken) when they do not. */
  tryTake(bytes: number): boolean {
    if (this.#inUse + bytes > this.#limit) return false;
    this.#inUse += bytes;
    return true;
  }

  /** Gives back `bytes` taken earlier (the stream was acknowledged or ended). */
  release(bytes: number): void {
    this.#inUse = Math.max(0, this.#inUse - bytes);
  }
}

/**
 * Takes the bytes of an eager OPEN the peer sent, or throws ERR_STREAM_PROTOCOL: a peer that sends
 * more than it was offered, or a payload larger than one DATA frame of its stream, broke the
 * protocol (an eager payload arrives as at most one DATA frame and END).
 */
export function acceptEagerOpen(
  credit: OpenCredit,
  open: { readonly streamId: number; readonly size: number; readonly chunkSize: number },
): void {
  if (open.size > open.chunkSize) {
    throw createError(
      "ERR_STREAM_PROTOCOL",
      `wire: eager OPEN on stream ${open.streamId} of ${open.size} bytes, more than its chunk size ${open.chunkSize}`,
    );
  }
  if (!credit.tryTake(open.size)) {
    throw createError(
      "ERR_STREAM_PROTOCOL",
      `wire: eager OPEN on stream ${open.streamId} of ${open.size} bytes exceeds the open credit (${credit.inUse} of ${credit.limit} bytes in use)`,
    );
  }
}

/** True when a payload of `size` may go eagerly (one frame, within the peer's credit): taken. */
export function takeEager(credit: OpenCredit, size: number, chunkSize: number): boolean {
  return size <= chunkSize && credit.tryTake(size);
}

function checkLimit(limit: number): number {
  if (!Number.isSafeInteger(limit) || limit < 0) {
    throw new RangeError(`open credit: limit ${String(limit)} is not an integer >= 0`);
  }
  return limit;
}
