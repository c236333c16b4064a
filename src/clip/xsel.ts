// The X11 CLIPBOARD selection through xsel, for systems that have xsel but not xclip. xsel
// handles text only: it cannot list the offered targets nor ask for one by name, so it carries
// no images and cannot see the password manager marker (detectsConcealed is false; detect.ts
// prefers xclip, and the caller should warn).

import { isUtf8 } from "node:buffer";
import { createError } from "../protocol/errors.js";
import {
  type Clipboard,
  type ClipboardOptions,
  type ClipItem,
  itemRead,
  nothingRead,
  textItem,
  writableKind,
} from "./clipboard.js";
import { limitsOf, runToolOk } from "./run-tool.js";
import { watchX11Clipboard } from "./x11-watch.js";

/** The X11 clipboard through xsel; DISPLAY must name the X server. */
export function createXselClipboard(options: ClipboardOptions = {}): Clipboard {
  const limits = limitsOf(options);
  return {
    backend: "x11-xsel",
    detectsConcealed: false,

    async read() {
      const bytes = await runToolOk({ command: "xsel", args: ["--clipboard", "--output"] }, limits);
      // Empty output is nothing copied, or nothing that is text. Bytes that are not UTF-8 are an
      // owner answering with whatever it holds (xclip serves its one item for any target asked,
      // an image included): not text either.
      return isUtf8(bytes) ? itemRead(textItem(bytes)) : nothingRead;
    },

    watch(onChange, onError) {
      return watchX11Clipboard(limits.env.DISPLAY, onChange, onError);
    },

    async write(item: ClipItem) {
      if (writableKind(item) !== "text") {
        throw createError(
          "ERR_CLIPBOARD",
          "clipboard: xsel cannot put an image on the clipboard (it handles text only); install xclip",
        );
      }
      // xsel forks a process that serves the selection, as xclip does (see ToolCall.forks).
      await runToolOk(
        { command: "xsel", args: ["--clipboard", "--input"], input: item.bytes, forks: true },
        limits,
      );
    },
  };
}
