// The spool folder: payloads too big for the store but small enough to keep (`--spool-bytes`)
// are written to a file each, so a receiver that comes later, or after a restart, still gets
// the channel's latest. The folder is private to the server's user (700, files 600) and every
// file name is made here (random hex): nothing a peer sends becomes part of a path.

import { randomBytes } from "node:crypto";
import { chmod, type FileHandle, mkdir, open, readdir, unlink } from "node:fs/promises";
import { join } from "node:path";
import { createError, describeError } from "../protocol/errors.js";
import { spoolFileName } from "./channel-records.js";
import type { PayloadCopy } from "./payload-copy.js";

/** The spool folder of one server. */
export class PayloadSpool {
  readonly folder: string;

  constructor(folder: string) {
    this.folder = folder;
  }

  /** Creates the folder if missing and makes it private (also when it existed). */
  async prepare(): Promise<void> {
    await mkdir(this.folder, { recursive: true, mode: 0o700 });
    await chmod(this.folder, 0o700);
  }

  /** A new, empty spool file for a payload. */
  async create(): Promise<SpoolCopy> {
    const name = `${randomBytes(16).toString("hex")}.payload`;
    const handle = await open(join(this.folder, name), "wx+", 0o600);
    return new SpoolCopy(this.folder, name, handle, 0);
  }

  /** The spool file `name` (from a record), as long as it is now. */
  async open(name: string): Promise<SpoolCopy> {
    if (!spoolFileName.test(name)) {
      throw createError("ERR_UNEXPECTED", `spool: ${JSON.stringify(name)} is not a spool file`);
    }
    const handle = await open(join(this.folder, name), "r+");
    const { size } = await handle.stat();
    return new SpoolCopy(this.folder, name, handle, size);
  }

  /** Deletes every spool file not in `keep` (left by a crash); returns how many. */
  async removeExcept(keep: ReadonlySet<string>): Promise<number> {
    let removed = 0;
    for (const name of await readdir(this.folder)) {
      if (keep.has(name) || !spoolFileName.test(name)) continue;
      await unlink(join(this.folder, name)).catch(() => {});
      removed++;
    }
    return removed;
  }
}

/** One payload's spool file. */
export class SpoolCopy implements PayloadCopy {
  readonly keptIn = "spool";
  readonly name: string;
  readonly #path: string;
  readonly #handle: FileHandle;
  #written: number;
  #closed: Promise<void> | undefined;

  constructor(folder: string, name: string, handle: FileHandle, written: number) {
    this.name = name;
    this.#path = join(folder, name);
    this.#handle = handle;
    this.#written = written;
  }

  get written(): number {
    return this.#written;
  }

  async append(bytes: Uint8Array): Promise<void> {
    const offset = this.#written;
    let done = 0;
    while (done < bytes.length) {
      const { bytesWritten } = await this.#handle.write(
        bytes,
        done,
        bytes.length - done,
        offset + done,
      );
      done += bytesWritten;
    }
    this.#written = offset + bytes.length;
  }

  /** A spool file is local: only this node writes it. */
  observe(written: number): void {
    this.#written = Math.max(this.#written, written);
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    const out = Buffer.allocUnsafe(length);
    let filled = 0;
    while (filled < length) {
      const { bytesRead } = await this.#handle.read(out, filled, length - filled, offset + filled);
      if (bytesRead === 0) {
        throw createError(
          "ERR_STREAM_SOURCE",
          `spool file ${this.name}: ends at ${offset + filled}, ${length - filled} bytes short`,
        );
      }
      filled += bytesRead;
    }
    return out;
  }

  async sync(): Promise<void> {
    await this.#handle.datasync();
  }

  close(): Promise<void> {
    this.#closed ??= this.#handle.close().catch(() => {});
    return this.#closed;
  }

  async remove(): Promise<void> {
    await this.close();
    await unlink(this.#path).catch((error: unknown) => {
      if ((error as { code?: string }).code !== "ENOENT") {
        throw createError(
          "ERR_LOCAL_FILE",
          `spool: cannot delete ${this.#path}: ${describeError(error)}`,
        );
      }
    });
  }
}
