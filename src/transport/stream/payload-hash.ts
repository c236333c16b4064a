// The SHA-256 of a whole payload, computed incrementally in offset order as bytes are first seen,
// with a bounded-memory catch-up over a prefix this process never saw (after a resume).

import { createHash, type Hash } from "node:crypto";
import { createError } from "../../protocol/errors.js";
import { defaultReadSize, type ReadBytes, readExact } from "./payload-source.js";

/**
 * Incremental SHA-256 over payload bytes fed by offset. Bytes before `offset` were hashed already
 * and are skipped, so re-sent or re-read ranges are harmless; a gap (bytes after `offset` without
 * the ones between) is a bug in the caller and throws, since SHA-256 cannot skip ahead.
 */
export class PayloadHash {
  readonly #hash: Hash = createHash("sha256");
  #offset = 0;
  #digest: Uint8Array | undefined;

  /** How many leading payload bytes have been hashed. */
  get offset(): number {
    return this.#offset;
  }

  /** Feeds `bytes` found at `offset` of the payload; only the not-yet-hashed tail is used. */
  update(offset: number, bytes: Uint8Array): void {
    if (offset > this.#offset) {
      throw createError(
        "ERR_UNEXPECTED",
        `payload hash: bytes at offset ${offset} but only ${this.#offset} bytes hashed so far`,
      );
    }
    const skip = this.#offset - offset;
    if (skip >= bytes.length) return;
    if (this.#digest !== undefined) {
      throw createError("ERR_UNEXPECTED", "payload hash: bytes added after the digest was taken");
    }
    this.#hash.update(skip === 0 ? bytes : bytes.subarray(skip));
    this.#offset += bytes.length - skip;
  }

  /**
   * Hashes the range from `offset` up to `target` by reading it with `read`, at most `readSize`
   * bytes at a time, so memory stays at one read whatever the prefix length. `shouldStop` is
   * checked between reads so a cancelled transfer does not finish reading a long prefix.
   */
  async catchUp(
    target: number,
    read: ReadBytes,
    context: string,
    readSize = defaultReadSize,
    shouldStop: () => boolean = () => false,
  ): Promise<void> {
    while (this.#offset < target && !shouldStop()) {
      const at = this.#offset;
      const length = Math.min(readSize, target - at);
      this.update(at, await readExact(read, at, length, context));
    }
  }

  /** The 32-byte digest of the bytes hashed so far; taking it ends hashing (repeat calls agree). */
  digest(): Uint8Array {
    this.#digest ??= new Uint8Array(this.#hash.digest());
    return this.#digest;
  }
}

/** True when `a` and `b` hold the same bytes (digests are public: no constant time needed). */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
