// Reading the SSH wire encoding from untrusted bytes: every read is bounds-checked and a short or
// overlong input becomes the caller's error (with its code and context), never a RangeError.

/** A cursor over SSH-encoded bytes. */
export interface SshReader {
  /** Reads a u32. */
  readU32(): number;
  /** Reads an SSH `string` as bytes (a view into the input, not a copy). */
  readString(): Buffer;
  /** Reads an SSH `string` as UTF-8 text. */
  readText(): string;
  /** Reads exactly `length` raw bytes. */
  readRaw(length: number): Buffer;
  /** Fails unless every byte has been read: trailing bytes mean a malformed or spliced input. */
  end(): void;
}

/**
 * Creates a reader over `bytes`. `fail(reason)` builds the error thrown on malformed input, so
 * each caller reports its own code and context (e.g. `sshsig: truncated string at byte 12`).
 */
export function createSshReader(bytes: Uint8Array, fail: (reason: string) => Error): SshReader {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 0;

  function readRaw(length: number): Buffer {
    if (length > buffer.length - offset) {
      throw fail(
        `truncated: needs ${length} bytes at byte ${offset}, has ${buffer.length - offset}`,
      );
    }
    const view = buffer.subarray(offset, offset + length);
    offset += length;
    return view;
  }

  function readU32(): number {
    return readRaw(4).readUInt32BE(0);
  }

  function readString(): Buffer {
    return readRaw(readU32());
  }

  return {
    readU32,
    readString,
    readText: () => readString().toString("utf8"),
    readRaw,
    end() {
      if (offset !== buffer.length) {
        throw fail(`${buffer.length - offset} unexpected trailing bytes at byte ${offset}`);
      }
    },
  };
}
