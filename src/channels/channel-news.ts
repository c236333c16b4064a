// What one node tells the others about channel payloads (several nodes sharing one store): small
// notices on the bus, never the bytes. The bytes are in the shared store, where the publishing
// node writes its kept copy anyway; a notice only says where and how far, so another node's
// deliveries read them there at their receivers' own pace. A lost notice is late news: the
// store says the same (see remote-payloads.ts).

import { decode, encode } from "cbor-x";
import { type ChannelKey, type KeptIn, storeCopyName } from "./channel-records.js";

/** What a node tells the others, as the channel hub's kept side makes it happen. */
export interface ChannelNews {
  /**
   * The channel's record names a new latest: store copy `copy` of `size` bytes, counted in
   * `charged`'s limits; undefined: the channel keeps nothing now (a payload relayed only).
   */
  opened(key: ChannelKey, copy: string | undefined, size: number, charged: KeptIn): void;
  /** The bytes of store copy `copy` are written up to `written`. */
  progressed(key: ChannelKey, copy: string, written: number): void;
  /** Every byte of `copy` is written and its publisher's SHA-256 checked out. */
  completed(key: ChannelKey, copy: string, sha256: Uint8Array): void;
  /** `copy` will never be complete (its upload failed, or it could not be written). */
  failed(key: ChannelKey, copy: string): void;
}

/** One notice, as it travels (short field names: one goes per written piece). */
export type Notice =
  | {
      readonly t: "o";
      readonly u: string;
      readonly c: string;
      readonly k?: string;
      readonly n: number;
      readonly b: KeptIn;
    }
  | {
      readonly t: "p";
      readonly u: string;
      readonly c: string;
      readonly k: string;
      readonly w: number;
    }
  | {
      readonly t: "e";
      readonly u: string;
      readonly c: string;
      readonly k: string;
      readonly s: Uint8Array;
    }
  | { readonly t: "x"; readonly u: string; readonly c: string; readonly k: string };

export function encodeNotice(notice: Notice): Uint8Array {
  return encode(notice);
}

/** The notice in `bytes`, or undefined when they are not one (never throws). */
export function decodeNotice(bytes: Uint8Array): Notice | undefined {
  let value: unknown;
  try {
    value = decode(bytes);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const text = (field: unknown) => typeof field === "string" && field !== "";
  const copy = (field: unknown) => typeof field === "string" && storeCopyName.test(field);
  const count = (field: unknown) => Number.isSafeInteger(field) && (field as number) >= 0;
  if (!text(v.u) || !text(v.c)) return undefined;
  switch (v.t) {
    case "o":
      if (v.k !== undefined && !copy(v.k)) return undefined;
      return count(v.n) && (v.b === "store" || v.b === "spool") ? (v as Notice) : undefined;
    case "p":
      return copy(v.k) && count(v.w) ? (v as Notice) : undefined;
    case "e":
      return copy(v.k) && v.s instanceof Uint8Array && v.s.length === 32
        ? (v as Notice)
        : undefined;
    case "x":
      return copy(v.k) ? (v as Notice) : undefined;
    default:
      return undefined;
  }
}

/** The channel a notice is about. */
export function keyOf(notice: Notice): ChannelKey {
  return { user: notice.u, name: notice.c };
}
