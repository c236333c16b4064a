// DATA payloads that arrived as whole frames: a relay may send such a payload on by writing its
// new 10-byte header over the old one, in place, instead of copying the payload into a new frame.
// The server's channel deliveries do this for the publisher's chunks. A received message is a
// byte range of its own (ws may hand out several as views of one socket read's ArrayBuffer, but
// never reuses or rewrites them), so writing inside the frame's own first 10 bytes touches no
// other message and no payload byte. Taking is one-shot, and that is what keeps two senders from
// writing their headers into one frame (the second would corrupt the frame the first queued).

import { frameHeaderBytes } from "../protocol/wire-frame.js";

/** Payload view → the whole received frame it is the tail of. Weak: dropped with the payload. */
const framesByPayload = new WeakMap<Uint8Array, Uint8Array>();

/**
 * Records that `payload` is the payload of the received frame `frame` (a view of its last bytes),
 * bytes nothing else writes to. Only what is written within `frame`'s own range is safe: never
 * write through `.buffer`, which other messages may share.
 */
export function rememberReceivedFrame(payload: Uint8Array, frame: Uint8Array): void {
  if (
    payload.buffer !== frame.buffer ||
    payload.byteOffset !== frame.byteOffset + frameHeaderBytes ||
    payload.byteLength !== frame.byteLength - frameHeaderBytes
  ) {
    throw new RangeError("received frames: the payload is not the tail of its frame");
  }
  framesByPayload.set(payload, frame);
}

/**
 * The received frame whose payload is exactly `payload` (the same view), for the caller to
 * rewrite its header and send; undefined if there is none or another sender took it already.
 */
export function takeReceivedFrame(payload: Uint8Array): Uint8Array | undefined {
  const frame = framesByPayload.get(payload);
  if (frame !== undefined) framesByPayload.delete(payload);
  return frame;
}
