// The state of a share as its readers are sent it — a viewer's full state, `GET
// /api/share/:id/data`, `GET /share_data` — encoded once and shared: a key's content is kept as
// its JSON bytes (StoredItem), and each form of the state is those same bytes between small
// heads, streamed as they are to every reader. N readers of one share, even of different seqs,
// hold one copy of its content, not N.

import {
  encodeStateFrame,
  snapshotFrameHead,
  type ViewerVersion,
} from "../protocol/share-frames.js";
import { itemTypeOfKey } from "../protocol/share-items.js";
import type { StreamedBody } from "../util/streamed-body.js";
import { type EncodedFrame, serverTextFrame, textFrameHeader } from "./encoded-frame.js";
import { sessionBody } from "./session-body.js";

const openBracket = Buffer.from("[");
const closeBracket = Buffer.from("]");
const closeBrace = Buffer.from("}");
const braceComma = Buffer.from("},");

/**
 * One durable key and its content as JSON bytes, with the heads that precede those bytes in each
 * form of the state (built on first use, kept while the key holds this content).
 */
export class StoredItem {
  #viewerHead: Buffer | undefined;
  #dataHead: Buffer | undefined;

  constructor(
    readonly key: string,
    /** The content's JSON, UTF-8; never modified. */
    readonly content: Buffer,
  ) {}

  /** The WebSocket frame header and `{"key":…,"content":` of this key's full-state frame. */
  viewerHead(): Buffer {
    if (this.#viewerHead === undefined) {
      const head = Buffer.from(snapshotFrameHead(this.key));
      const payload = head.byteLength + this.content.byteLength + closeBrace.byteLength;
      this.#viewerHead = Buffer.concat([textFrameHeader(payload), head]);
    }
    return this.#viewerHead;
  }

  /** `{"type":…,"key":…,"data":` of this key's entry in `GET /api/share/:id/data`. */
  dataHead(): Buffer {
    this.#dataHead ??= Buffer.from(
      `{"type":${JSON.stringify(itemTypeOfKey(this.key) ?? null)},"key":${JSON.stringify(this.key)},"data":`,
    );
    return this.#dataHead;
  }
}

/** What a viewer is sent when it joins, streamed before any live frame: and how many frames. */
export interface ViewerStart {
  readonly frames: number;
  readonly body: StreamedBody;
}

/** The durable state of a share at one seq, in key order; its forms built once, on first use. */
export class ShareSnapshot {
  #viewer: StreamedBody | undefined;
  #stateFrame: Buffer | undefined;
  #data: StreamedBody | undefined;
  #session: StreamedBody | undefined;

  constructor(
    /** The seq of the last write it includes. */
    readonly seq: number,
    /** The share's epoch (undefined: unknown). */
    readonly epoch: string | undefined,
    /** Every durable key, in key order. */
    readonly items: readonly StoredItem[],
  ) {}

  /**
   * The full state for a viewer: one `{key, content}` frame per key, and for version 2 the
   * `{type: "state", seq, epoch}` frame that ends it.
   */
  viewerStart(version: ViewerVersion): ViewerStart {
    this.#viewer ??= streamed(this.items, (item) => [item.viewerHead(), item.content, closeBrace]);
    if (version === 1) return { frames: this.items.length, body: this.#viewer };
    this.#stateFrame ??= serverTextFrame(Buffer.from(encodeStateFrame(this.seq, this.epoch)));
    const frames = this.#viewer;
    const state = this.#stateFrame;
    return {
      frames: this.items.length + 1,
      body: {
        byteLength: frames.byteLength + state.byteLength,
        *units() {
          yield* frames.units();
          yield [state];
        },
      },
    };
  }

  /** `GET /api/share/:id/data`'s body: `[{type, key, data}, …]`. */
  dataBody(): StreamedBody {
    this.#data ??= streamed(
      this.items,
      (item, index) => [index === 0 ? openBracket : braceComma, item.dataHead(), item.content],
      this.items.length === 0 ? [openBracket, closeBracket] : [closeBrace, closeBracket],
    );
    return this.#data;
  }

  /** `GET /share_data`'s body: `{info, messages: {<id>: {...message, parts}}}` (session-body.ts). */
  sessionBody(): StreamedBody {
    this.#session ??= sessionBody(this.items);
    return this.#session;
  }
}

/** The catch-up frames a viewer missed, as it is sent them when it joins. */
export function catchUpStart(frames: readonly EncodedFrame[]): ViewerStart {
  let byteLength = 0;
  for (const frame of frames) byteLength += frame.wire.byteLength;
  return {
    frames: frames.length,
    body: {
      byteLength,
      *units() {
        for (const frame of frames) yield [frame.wire];
      },
    },
  };
}

/** A body of one unit per item (its parts made by `unitOf`), then `end` when given. */
function streamed(
  items: readonly StoredItem[],
  unitOf: (item: StoredItem, index: number) => readonly Buffer[],
  end: readonly Buffer[] = [],
): StreamedBody {
  let byteLength = 0;
  items.forEach((item, index) => {
    for (const part of unitOf(item, index)) byteLength += part.byteLength;
  });
  for (const part of end) byteLength += part.byteLength;
  return {
    byteLength,
    *units() {
      for (let index = 0; index < items.length; index++) {
        yield unitOf(items[index] as StoredItem, index);
      }
      if (end.length > 0) yield end;
    },
  };
}
