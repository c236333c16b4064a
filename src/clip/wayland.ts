// The Wayland clipboard through wl-clipboard (wl-paste, wl-copy), the one set of tools every
// Wayland desktop can use. It reads by MIME type, lists the offered types (for the password
// manager marker), and with a compositor that has the data-control protocol (wlroots-based ones,
// KDE) tells of each change, so no polling is needed there.

import {
  type Clipboard,
  type ClipboardOptions,
  type ClipItem,
  pngMime,
  textMime,
  writableKind,
} from "./clipboard.js";
import { type CarriedType, readOffered, typeLines } from "./offered.js";
import { failed, limitsOf, runTool, runToolOk, type ToolCall } from "./run-tool.js";
import { watchTool } from "./watch-tool.js";

/**
 * What we read, best first. Applications offer MIME types; X11 applications under Xwayland
 * offer the X11 names as well (UTF8_STRING, and STRING in ISO 8859-1 from the oldest ones).
 */
const preference: readonly CarriedType[] = [
  { type: textMime, kind: "text" },
  { type: "UTF8_STRING", kind: "text" },
  { type: "text/plain", kind: "text" },
  { type: "STRING", kind: "text", latin1: true },
  { type: pngMime, kind: "image" },
];

/**
 * What wl-paste says, exiting 1, when nothing is copied: "No selection" (wl-clipboard 2.0, 2.1),
 * "Nothing is copied" (2.2). Any other failure is an error.
 */
const emptyClipboard = /no selection|nothing is copied/i;

/** The Wayland clipboard; WAYLAND_DISPLAY must name the compositor's socket. */
export function createWaylandClipboard(options: ClipboardOptions = {}): Clipboard {
  const limits = limitsOf(options);

  /** Runs wl-paste; undefined when the clipboard is (or just became) empty. */
  const paste = async (args: string[]): Promise<Buffer | undefined> => {
    const call: ToolCall = { command: "wl-paste", args };
    const output = await runTool(call, limits);
    if (output.code === 0) return output.stdout;
    if (emptyClipboard.test(output.stderr)) return undefined;
    throw failed(call, output);
  };

  return {
    backend: "wayland",
    detectsConcealed: true,

    read() {
      return readOffered(preference, {
        listTypes: async () => {
          const output = await paste(["--list-types"]);
          return output === undefined ? undefined : typeLines(output);
        },
        // --no-newline: wl-paste adds a newline to text unless told not to.
        fetch: (type) =>
          paste(type === pngMime ? ["--type", type] : ["--no-newline", "--type", type]),
      });
    },

    async write(item: ClipItem) {
      writableKind(item);
      // wl-copy reads stdin to the end, takes the selection, then forks a process that serves
      // it until another application copies, and exits: its exit means the clipboard holds the
      // item. A text type makes it offer the plain-text aliases (text/plain, UTF8_STRING…) too.
      await runToolOk(
        { command: "wl-copy", args: ["--type", item.mime], input: item.bytes, forks: true },
        limits,
      );
    },

    watch(onChange, onError) {
      // wl-paste runs the command after each change (and once for the current selection); echo
      // ignores the content it is handed on stdin and prints one line, which is all we need.
      return watchTool(
        { command: "wl-paste", args: ["--no-newline", "--watch", "echo", "x"] },
        limits.env,
        onChange,
        onError,
      );
    },
  };
}
