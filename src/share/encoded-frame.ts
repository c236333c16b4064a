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
  const header = textFrameHeader(payload.byteLength);
  const frame = Buffer.allocUnsafe(header.byteLength + payload.byteLength);
  header.copy(frame, 0);
  payload.copy(frame, header.byteLength);
  return frame;
}

/**
 * The header of a final, unmasked text frame of `length` payload bytes: what precedes a payload
 * sent in several parts (a full state's frame: its head, its content's bytes, its end).
 */
export function textFrameHeader(length: number): Buffer {
  const headerLength = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const header = Buffer.allocUnsafe(headerLength);
  header[0] = 0x81; // FIN + opcode 1 (text)
  if (length < 126) {
    header[1] = length;
  } else if (length < 65_536) {
    header[1] = 126;
    header.writeUInt16BE(length, 2);
  } else {
    header[1] = 127;
    header.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    header.writeUInt32BE(length >>> 0, 6);
  }
  return header;
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
