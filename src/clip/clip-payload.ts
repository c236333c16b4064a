// How a clipboard item travels on a channel: its bytes are the payload, as they are (so `recv`
// of a clipboard channel writes the text or the PNG itself), and what the receiving device needs
// besides — the kind, the MIME type and the sending device's name — goes in the payload's name,
// `syncline-clip/1 ` then a small JSON object. A payload without that prefix is taken as text
// when it is valid UTF-8 (sent with `syncline send`), else refused.

import { createHash } from "node:crypto";

/** The marker that starts a clipboard payload's name. */
export const clipNamePrefix = "syncline-clip/1 ";

/** The kinds of item a clipboard carries between devices. */
export type ClipKind = "text" | "image";

/** What a clipboard payload says about itself. */
export interface ClipMeta {
  readonly kind: ClipKind;
  /** "text/plain;charset=utf-8" or "image/png". */
  readonly mime: string;
  /** The sending device's name (`--device-name`), shown to the others; may be empty. */
  readonly device: string;
}

/** The MIME type of each kind. */
export const mimeOfKind: Readonly<Record<ClipKind, string>> = {
  text: "text/plain;charset=utf-8",
  image: "image/png",
};

/** The longest device name carried, in characters (a host name is at most 253). */
export const maxDeviceNameLength = 64;

/** The payload name of an item of `meta`. */
export function encodeClipName(meta: ClipMeta): string {
  const device = meta.device.slice(0, maxDeviceNameLength);
  return clipNamePrefix + JSON.stringify({ kind: meta.kind, mime: meta.mime, device });
}

/**
 * What a received payload is: from its name when it is a clipboard payload, else text when the
 * bytes are UTF-8; undefined (with the reason) when it cannot go on a clipboard.
 */
export function decodeClipPayload(
  name: string | undefined,
  bytes: Uint8Array,
): { meta: ClipMeta } | { problem: string } {
  if (name?.startsWith(clipNamePrefix)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(name.slice(clipNamePrefix.length));
    } catch {
      return { problem: "its clipboard description is not JSON" };
    }
    const { kind, device } = (parsed ?? {}) as { kind?: unknown; device?: unknown };
    if (kind !== "text" && kind !== "image") {
      return { problem: `it is of kind ${JSON.stringify(kind)}, not text or image` };
    }
    if (kind === "image" && !isPng(bytes)) return { problem: "its image is not a PNG" };
    if (kind === "text" && !isUtf8(bytes)) return { problem: "its text is not UTF-8" };
    const shown = typeof device === "string" ? device.slice(0, maxDeviceNameLength) : "";
    return { meta: { kind, mime: mimeOfKind[kind], device: shown } };
  }
  if (isPng(bytes)) return { meta: { kind: "image", mime: mimeOfKind.image, device: "" } };
  if (isUtf8(bytes)) return { meta: { kind: "text", mime: mimeOfKind.text, device: "" } };
  return { problem: "it is neither a clipboard item nor UTF-8 text nor a PNG image" };
}

/** The content hash that tells one item from another (kind and bytes). */
export function clipHash(kind: ClipKind, bytes: Uint8Array): string {
  return createHash("sha256").update(kind).update("\0").update(bytes).digest("hex");
}

const pngSignature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && Buffer.from(bytes.buffer, bytes.byteOffset, 8).equals(pngSignature);
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

function isUtf8(bytes: Uint8Array): boolean {
  try {
    strictUtf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}
