// One outgoing viewer frame, encoded once: its JSON text and, built on first use, the complete
// WebSocket frame carrying it (RFC 6455 §5.2, server → client: FIN, text opcode, no mask). The
// fan-out writes those same wire bytes to every viewer's socket: no per-viewer header, copy or
// extra write.

/** A frame shared by every viewer it is sent to; never modified after it is built. */
export class EncodedFrame {
  #wire: Buffer | undefined;

  constructor(
    /** The JSON text, UTF-8. */
    readonly text: Buffer,
  ) {}

  /** Bytes of the JSON text. */
  get byteLength(): number {
    return this.text.byteLength;
  }

  /** The whole WebSocket frame (header + text), built once. */
  get wire(): Buffer {
    this.#wire ??= serverTextFrame(this.text);
    return this.#wire;
  }
}

/** A final, unmasked text frame holding `payload` (servers never mask, §5.1). */
export function serverTextFrame(payload: Buffer): Buffer {
  const length = payload.byteLength;
  const headerLength = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerLength + length);
  frame[0] = 0x81; // FIN + opcode 1 (text)
  if (length < 126) {
    frame[1] = length;
  } else if (length < 65_536) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    frame.writeUInt32BE(length >>> 0, 6);
  }
  payload.copy(frame, headerLength);
  return frame;
}

/** Consecutive frames sent together: to a socket, one write of their wire bytes back to back. */
export class FrameBatch {
  #wire: Buffer | undefined;

  constructor(readonly frames: readonly EncodedFrame[]) {}

  /** The frames' wire bytes, concatenated once (a lone frame's own bytes, not a copy). */
  get wire(): Buffer {
    this.#wire ??=
      this.frames.length === 1
        ? (this.frames[0] as EncodedFrame).wire
        : Buffer.concat(this.frames.map((frame) => frame.wire));
    return this.#wire;
  }
}
