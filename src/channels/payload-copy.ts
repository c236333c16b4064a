// A kept payload's durable copy: its bytes in the store (small payloads) or in a spool file (big
// ones), written in order as they arrive and read back at any offset by late or resuming
// deliveries and, after a restart, by the upload's resume.

import { randomBytes } from "node:crypto";
import { createError } from "../protocol/errors.js";
import type { Store, StoreOp } from "../storage/store.js";
import { type ChannelKey, dataKey, dataPrefix, type KeptIn } from "./channel-records.js";

/** The durable copy of one kept payload. */
export interface PayloadCopy {
  readonly keptIn: KeptIn;
  /** The copy's local name (its spool file's, or its key segment in the store). */
  readonly name: string;
  /** Bytes written so far (from offset 0). */
  readonly written: number;
  /** Appends `bytes` at `written`; resolves once they can be read back. */
  append(bytes: Uint8Array): Promise<void>;
  /**
   * Another node wrote the copy up to `written` (several nodes share the store): reads may go
   * that far. Never moves back.
   */
  observe(written: number): void;
  /** Reads exactly `length` bytes at `offset` (within `written`). */
  read(offset: number, length: number): Promise<Uint8Array>;
  /** Makes everything written durable (a spool file's data sync). */
  sync(): Promise<void>;
  /** Releases what the copy holds open (a file handle); the bytes stay. */
  close(): Promise<void>;
  /** Deletes the bytes (the copy is not used again). */
  remove(): Promise<void>;
}

/**
 * A payload's bytes in the store, one value per piece written, keyed by its offset. Each append
 * resolves once durable (the store's contract), so what a restart finds is a prefix of the
 * payload: writes apply in order, a crash loses only the last ones.
 */
export class StoreCopy implements PayloadCopy {
  readonly keptIn = "store";
  readonly name: string;
  /**
   * A condition every append carries (several nodes: the channel's record is still the one this
   * node wrote), so a node whose payload another node replaced (or dropped) cannot write a piece
   * more, which nothing would ever delete: its append fails with ERR_STORE_CONFLICT.
   */
  fence: StoreOp | undefined;
  readonly #store: Store;
  readonly #key: ChannelKey;
  #written: number;

  constructor(store: Store, key: ChannelKey, name: string, written: number) {
    this.#store = store;
    this.#key = key;
    this.name = name;
    this.#written = written;
  }

  /** A new, empty copy for a payload of channel `key`, under a fresh local name. */
  static create(store: Store, key: ChannelKey): StoreCopy {
    return new StoreCopy(store, key, randomBytes(16).toString("hex"), 0);
  }

  /** The copy `name` as a restart finds it: as long as its last piece reaches. */
  static async open(store: Store, key: ChannelKey, name: string): Promise<StoreCopy> {
    let written = 0;
    for await (const last of store.range(dataPrefix(key, name), { reverse: true, limit: 1 })) {
      written = Number(last.key[last.key.length - 1]) + last.value.length;
    }
    return new StoreCopy(store, key, name, written);
  }

  get written(): number {
    return this.#written;
  }

  async append(bytes: Uint8Array): Promise<void> {
    const offset = this.#written;
    const put: StoreOp = { type: "put", key: dataKey(this.#key, this.name, offset), value: bytes };
    await this.#store.write(this.fence ? [this.fence, put] : [put]);
    this.#written = offset + bytes.length;
  }

  observe(written: number): void {
    this.#written = Math.max(this.#written, written);
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    const out = new Uint8Array(length);
    let at = await this.#pieceStart(offset);
    let filled = 0;
    while (filled < length) {
      const piece = await this.#store.get(dataKey(this.#key, this.name, at));
      if (piece === undefined || piece.length === 0) throw this.#missing(offset + filled);
      const from = offset + filled - at;
      const take = Math.min(piece.length - from, length - filled);
      out.set(piece.subarray(from, from + take), filled);
      filled += take;
      at += piece.length;
    }
    return out;
  }

  async sync(): Promise<void> {}

  async close(): Promise<void> {}

  async remove(): Promise<void> {
    await this.#store.deletePrefix(dataPrefix(this.#key, this.name));
  }

  /** The offset of the piece holding `offset`: the last piece key at or before it. */
  async #pieceStart(offset: number): Promise<number> {
    const options = {
      end: dataKey(this.#key, this.name, offset + 1),
      reverse: true,
      limit: 1,
    };
    for await (const entry of this.#store.range(dataPrefix(this.#key, this.name), options)) {
      return Number(entry.key[entry.key.length - 1]);
    }
    throw this.#missing(offset);
  }

  #missing(offset: number) {
    return createError(
      "ERR_STREAM_SOURCE",
      `channel ${this.#key.name}: kept bytes at ${offset} (copy ${this.name}) are missing from the store`,
    );
  }
}
