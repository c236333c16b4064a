// A share viewer socket for hub tests: takes the server's prebuilt WebSocket frames as bytes,
// records them parsed, and never falls behind.

import type { ViewerSocket } from "../../src/share/viewer-fanout.js";

/** A ViewerSocket and the frames (parsed JSON) sent to it so far. */
export function recordingViewer(): { socket: ViewerSocket; frames: Record<string, unknown>[] } {
  const frames: Record<string, unknown>[] = [];
  const parse = frameParser((text) => frames.push(JSON.parse(text)));
  const socket: ViewerSocket = {
    write: (parts) => {
      for (const part of parts) parse(Buffer.from(part));
      return true;
    },
    needsDrain: () => false,
    drained: async () => true,
    bufferedAmount: () => 0,
    close: () => {},
  };
  return { socket, frames };
}

/**
 * Parses server → client WebSocket text frames (final, unmasked: all the server sends viewers)
 * from bytes that may split them anywhere, calling `onText` with each one's payload.
 */
export function frameParser(onText: (text: string) => void): (bytes: Buffer) => void {
  let pending = Buffer.alloc(0);
  return (bytes) => {
    pending = Buffer.concat([pending, bytes]);
    for (;;) {
      if (pending.byteLength < 2) return;
      if (pending[0] !== 0x81)
        throw new Error(`not a final text frame: 0x${pending[0]?.toString(16)}`);
      const short = (pending[1] as number) & 0x7f;
      const headerLength = short === 126 ? 4 : short === 127 ? 10 : 2;
      if (pending.byteLength < headerLength) return;
      const length =
        short === 126
          ? pending.readUInt16BE(2)
          : short === 127
            ? Number(pending.readBigUInt64BE(2))
            : short;
      if (pending.byteLength < headerLength + length) return;
      onText(pending.subarray(headerLength, headerLength + length).toString("utf8"));
      pending = pending.subarray(headerLength + length);
    }
  };
}
