// Where `recv` puts a payload's bytes, per output target (output-file.ts): a part file renamed
// over the target once complete, a special file (FIFO, device) written in order as the bytes
// arrive, or stdout.

import { constants } from "node:fs";
import { type FileHandle, open, rename, rm } from "node:fs/promises";
import type { Writable } from "node:stream";
import type { PayloadSink } from "../channels/channel-client.js";
import { createError } from "../protocol/errors.js";
import { localFileError, type OutputTarget, partFileFor } from "./output-file.js";

/** A sink that is told how the payload ended: `commit` once it checked out, else `discard`. */
export interface OutputSink extends PayloadSink {
  commit(): Promise<void>;
  /** Leaves nothing half-written behind that was not there before. */
  discard(): Promise<void>;
}

/** The sink for one payload written to `target`. */
export function outputSinkFor(target: OutputTarget): OutputSink {
  return target.kind === "replace"
    ? new ReplacingFileSink(target)
    : new SpecialFileSink(target.path);
}

/** Writes a payload into a part file beside the target, renamed over it once complete. */
class ReplacingFileSink implements OutputSink {
  readonly #target: string;
  readonly #mode: number | undefined;
  readonly #part: string;
  #handle: Promise<FileHandle> | undefined;

  constructor(target: { readonly path: string; readonly mode: number | undefined }) {
    this.#target = target.path;
    this.#mode = target.mode;
    this.#part = partFileFor(target.path);
  }

  async writeChunk(offset: number, bytes: Uint8Array): Promise<void> {
    this.#handle ??= open(this.#part, "wx", 0o600);
    const handle = await this.#handle;
    await handle.write(bytes, 0, bytes.length, offset);
  }

  async commit(): Promise<void> {
    this.#handle ??= open(this.#part, "wx", 0o600); // an empty payload still makes a file
    const handle = await this.#handle;
    // A file replaced keeps its permission bits; a new one stays 0600 (a payload may be private).
    if (this.#mode !== undefined) await handle.chmod(this.#mode);
    await handle.sync();
    await handle.close();
    await rename(this.#part, this.#target);
  }

  async discard(): Promise<void> {
    if (!this.#handle) return;
    await (await this.#handle).close().catch(() => {});
    await rm(this.#part, { force: true });
  }
}

/**
 * Writes a payload into a FIFO or a device, in order, as it arrives: opened for writing (never
 * created, truncated or replaced) at the first byte. Opening a FIFO waits for its reader. The
 * bytes are out before the payload's SHA-256 is checked, as with stdout.
 */
class SpecialFileSink implements OutputSink {
  readonly #path: string;
  #handle: Promise<FileHandle> | undefined;
  #opened: FileHandle | undefined;
  #written = 0;

  constructor(path: string) {
    this.#path = path;
  }

  async writeChunk(offset: number, bytes: Uint8Array): Promise<void> {
    const handle = await this.#open();
    if (offset !== this.#written) {
      // Chunks come in order, resumed ones included; a gap or a rewrite cannot be written here.
      throw createError(
        "ERR_LOCAL_FILE",
        `recv: ${this.#path}: bytes at offset ${offset} after ${this.#written} cannot be written to a special file`,
      );
    }
    try {
      for (let done = 0; done < bytes.length; ) {
        const { bytesWritten } = await handle.write(bytes, done, bytes.length - done, null);
        done += bytesWritten;
      }
    } catch (error) {
      throw localFileError(error, `recv: cannot write to ${this.#path}`);
    }
    this.#written += bytes.length;
  }

  async commit(): Promise<void> {
    await (await this.#open()).close();
  }

  async discard(): Promise<void> {
    // An open still waiting (a FIFO nobody reads) is left to the process's exit: waiting on it
    // would keep an interrupted recv from ending.
    await this.#opened?.close().catch(() => {});
  }

  #open(): Promise<FileHandle> {
    this.#handle ??= open(this.#path, constants.O_WRONLY | constants.O_NOCTTY).then(
      (handle) => {
        this.#opened = handle;
        return handle;
      },
      (error: unknown) => {
        throw localFileError(error, `recv: cannot open ${this.#path} for writing`);
      },
    );
    return this.#handle;
  }
}

/** Writes a payload to stdout in order, waiting when the pipe is full. */
export class StdoutSink implements OutputSink {
  constructor(private readonly stream: Writable) {}

  async writeChunk(_offset: number, bytes: Uint8Array): Promise<void> {
    if (this.stream.destroyed) throw createError("ERR_LOCAL_FILE", "recv: stdout is closed");
    if (!this.stream.write(bytes)) {
      // A pipe whose reader left never drains: its close ends the wait (see guardStdout).
      await new Promise<void>((resolve) => {
        const done = () => {
          this.stream.off("drain", done).off("close", done);
          resolve();
        };
        this.stream.on("drain", done).on("close", done);
      });
    }
  }

  async commit(): Promise<void> {}

  async discard(): Promise<void> {}
}
