// The local clipboard as `syncline clip` sees it: one item at a time, text or a PNG image, read
// and written through the platform's own command-line tools (detect.ts picks them). Everything
// else a clipboard may hold (rich text, file lists, other image formats) is not carried: text is
// the one format every device can paste, and PNG the one lossless image format they all read.

import { createError } from "../protocol/errors.js";

/** The MIME type of a text item: always UTF-8, whatever the platform stores. */
export const textMime = "text/plain;charset=utf-8";
/** The MIME type of an image item: PNG only (see above). */
export const pngMime = "image/png";

/** One clipboard item. */
export interface ClipItem {
  readonly kind: "text" | "image";
  /** `text/plain;charset=utf-8` for text, `image/png` for images (`write` refuses others). */
  readonly mime: string;
  readonly bytes: Uint8Array;
}

/** What a read found. */
export interface ClipRead {
  /** The item; undefined when the clipboard is empty or holds only types we do not carry. */
  readonly item: ClipItem | undefined;
  /**
   * True when the application that copied it asked clipboard managers not to keep or share it
   * (password managers; see concealed.ts). The item is then not read at all (`item` is
   * undefined), and the caller must not publish anything for it.
   */
  readonly concealed: boolean;
}

/** A handle on a running change watcher. */
export interface ClipWatch {
  /** Ends the watcher process; no `onChange` after it returns. */
  stop(): void;
}

/** The clipboard of this session, through one platform's tools. */
export interface Clipboard {
  /** Which tools: `wayland`, `x11-xclip`, `x11-xsel`, `macos`, `windows` (ClipboardBackend). */
  readonly backend: string;
  /**
   * False when the tools cannot list the clipboard's types (xsel), so password-manager items are
   * not recognised and `read` never reports `concealed`: the caller should warn the user.
   * Absent means true.
   */
  readonly detectsConcealed?: boolean;
  /** The current item; text wins when both text and an image are offered. */
  read(): Promise<ClipRead>;
  /** Makes `item` the clipboard's content; resolves once the platform holds it. */
  write(item: ClipItem): Promise<void>;
  /**
   * Calls `onChange` after each change of the clipboard (and possibly once at the start),
   * where the platform notifies of changes (Wayland compositors with the data-control
   * protocol, X servers with XFIXES); absent elsewhere, where the caller polls `read`.
   * `onError` hears once if the watcher fails or ends (a compositor without data-control, an X
   * server gone), after which the caller should fall back to polling.
   */
  watch?(onChange: () => void, onError?: (error: Error) => void): ClipWatch;
}

/** The backends, by the tools they run. */
export type ClipboardBackend = "wayland" | "x11-xclip" | "x11-xsel" | "macos" | "windows";

/** What every backend takes. */
export interface ClipboardOptions {
  /** The environment the tools run with; its PATH finds them. Default: process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** How long one tool run may take before it is killed. Default 10 s. */
  readonly timeoutMs?: number;
  /** The largest item read, in bytes; a tool printing more is killed. Default 16 MiB. */
  readonly maxBytes?: number;
}

/** The defaults of ClipboardOptions. */
export const clipboardDefaults = {
  timeoutMs: 10_000,
  maxBytes: 16 * 1024 * 1024,
} as const;

/** A text item of `bytes` (UTF-8). */
export function textItem(bytes: Uint8Array): ClipItem {
  return { kind: "text", mime: textMime, bytes };
}

/** An image item of `bytes` (PNG). */
export function pngItem(bytes: Uint8Array): ClipItem {
  return { kind: "image", mime: pngMime, bytes };
}

/** The read of an empty clipboard, or of one holding nothing we carry. */
export const nothingRead: ClipRead = { item: undefined, concealed: false };

/** The read of a concealed item: nothing of it was read. */
export const concealedRead: ClipRead = { item: undefined, concealed: true };

/** A read that found `item`; an empty text or image counts as nothing to carry. */
export function itemRead(item: ClipItem): ClipRead {
  return item.bytes.length === 0 ? nothingRead : { item, concealed: false };
}

/** The kind of `item` if a backend can write it; ERR_INVALID_OPTION for any other type. */
export function writableKind(item: ClipItem): "text" | "image" {
  if (item.kind === "text" && item.mime === textMime) return "text";
  if (item.kind === "image" && item.mime === pngMime) return "image";
  throw createError(
    "ERR_INVALID_OPTION",
    `clipboard write: cannot write a ${item.kind} item of type ${item.mime} (only ${textMime} text and ${pngMime} images)`,
  );
}
