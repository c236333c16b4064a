// The X11 CLIPBOARD selection (the one Ctrl-C and Ctrl-V use, not PRIMARY) through xclip, which
// can list the offered targets (for the password manager marker) and read and serve any target
// by name. X11 does not tell a plain client of changes, so the caller polls `read`.

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

/**
 * What we read, best first: UTF8_STRING is what X11 applications offer for text; GTK and Qt also
 * offer MIME names; STRING is ISO 8859-1 from the oldest ones.
 */
const preference: readonly CarriedType[] = [
  { type: "UTF8_STRING", kind: "text" },
  { type: textMime, kind: "text" },
  { type: "text/plain", kind: "text" },
  { type: "STRING", kind: "text", latin1: true },
  { type: pngMime, kind: "image" },
];

/**
 * What xclip says, exiting 1, when no application owns the selection (nothing copied, or its
 * owner quit), or when the owner stopped offering a target between our runs.
 */
const emptyClipboard = /target \S+ not available/i;

const selection = ["-selection", "clipboard"];

/** The X11 clipboard through xclip; DISPLAY must name the X server. */
export function createXclipClipboard(options: ClipboardOptions = {}): Clipboard {
  const limits = limitsOf(options);

  /** Runs `xclip -o` for `target`; undefined when it is not (or no longer) offered. */
  const output = async (target: string): Promise<Buffer | undefined> => {
    const call: ToolCall = { command: "xclip", args: [...selection, "-t", target, "-o"] };
    const result = await runTool(call, limits);
    if (result.code === 0) return result.stdout;
    if (emptyClipboard.test(result.stderr)) return undefined;
    throw failed(call, result);
  };

  return {
    backend: "x11-xclip",
    detectsConcealed: true,

    read() {
      return readOffered(preference, {
        listTypes: async () => {
          const targets = await output("TARGETS");
          return targets === undefined ? undefined : typeLines(targets);
        },
        fetch: output,
      });
    },

    async write(item: ClipItem) {
      // xclip serves one target per run: UTF8_STRING is the one every X11 application asks
      // for text (GTK and Qt included).
      const target = writableKind(item) === "text" ? "UTF8_STRING" : pngMime;
      // xclip reads stdin to the end, takes the selection and forks a process that serves it
      // until another application copies; the parent's exit means the clipboard holds the item.
      // The forked process keeps stdout and stderr open: stdout is not even piped, and the run
      // ends at the exit (see ToolCall.forks).
      await runToolOk(
        {
          command: "xclip",
          args: [...selection, "-t", target, "-i"],
          input: item.bytes,
          forks: true,
        },
        limits,
      );
    },
  };
}
