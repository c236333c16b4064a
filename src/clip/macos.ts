// The macOS general pasteboard through the tools every Mac has: pbpaste and pbcopy for text,
// osascript for the list of types and for PNG images (pbpaste and pbcopy handle text only).
// macOS does not tell a command-line tool of changes, so the caller polls `read`.

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type Clipboard,
  type ClipboardOptions,
  type ClipItem,
  concealedRead,
  itemRead,
  nothingRead,
  pngItem,
  textItem,
  writableKind,
} from "./clipboard.js";
import { isConcealed } from "./concealed.js";
import { typeLines } from "./offered.js";
import { limitsOf, runToolOk, type ToolCall, toolError } from "./run-tool.js";

/**
 * The pasteboard's types as uniform type identifiers, one a line. AppleScript's `clipboard info`
 * names types by four-character codes and leaves out identifiers that have none, such as
 * org.nspasteboard.ConcealedType; AppKit's own list, through JavaScript for Automation, has
 * them all.
 */
const listTypesScript = [
  'ObjC.import("AppKit");',
  "(ObjC.deepUnwrap($.NSPasteboard.generalPasteboard.types) || []).join('\\n');",
].join("\n");

/** The identifiers under which text is offered (the last two: older applications). */
const textTypes = [
  "public.utf8-plain-text",
  "public.utf16-external-plain-text",
  "NSStringPboardType",
];
const pngType = "public.png";

/**
 * PNG data as AppleScript has it: osascript prints `«data PNGf<hex>»`. The class code PNGf is
 * the pasteboard's public.png.
 */
const readPngScript = "the clipboard as «class PNGf»";
const writePngScript = [
  "on run argv",
  "set the clipboard to (read (POSIX file (item 1 of argv)) as «class PNGf»)",
  "end run",
];

/**
 * pbpaste and pbcopy convert text to and from the encoding of the locale, and a process started
 * without one (a launchd agent, a bare SSH session) gets Mac OS Roman: non-ASCII text is
 * mangled. A UTF-8 locale keeps the bytes as they are.
 */
const utf8Locale = { LANG: "en_US.UTF-8", LC_ALL: "en_US.UTF-8" };

/** The macOS pasteboard. */
export function createMacosClipboard(options: ClipboardOptions = {}): Clipboard {
  const limits = limitsOf(options);
  const osascript = (args: string[], shown: string, maxBytes?: number): ToolCall => ({
    command: "osascript",
    args,
    shown: `osascript ${shown}`,
    ...(maxBytes === undefined ? {} : { maxBytes }),
  });

  const readPng = async (): Promise<Uint8Array> => {
    // Two hex digits a byte, and the «data PNGf…» around them.
    const call = osascript(
      ["-e", readPngScript],
      `-e '${readPngScript}'`,
      limits.maxBytes * 2 + 64,
    );
    const printed = (await runToolOk(call, limits)).toString("utf8");
    const hex = /«data PNGf([0-9A-Fa-f]*)»/.exec(printed)?.[1];
    if (hex === undefined || hex.length % 2 !== 0) {
      throw toolError(call, "printed something that is not PNG data", printed.slice(0, 80));
    }
    if (hex.length / 2 > limits.maxBytes) {
      throw toolError(
        call,
        `read an image of ${hex.length / 2} bytes, more than ${limits.maxBytes}`,
      );
    }
    return Buffer.from(hex, "hex");
  };

  return {
    backend: "macos",
    detectsConcealed: true,

    async read() {
      const listed = await runToolOk(
        osascript(
          ["-l", "JavaScript", "-e", listTypesScript],
          "-l JavaScript (list the pasteboard's types)",
        ),
        limits,
      );
      const types = typeLines(listed);
      if (isConcealed(types)) return concealedRead;
      if (types.some((type) => textTypes.includes(type))) {
        const text = await runToolOk({ command: "pbpaste", args: [], env: utf8Locale }, limits);
        return itemRead(textItem(text));
      }
      if (types.includes(pngType)) return itemRead(pngItem(await readPng()));
      return nothingRead;
    },

    async write(item: ClipItem) {
      if (writableKind(item) === "text") {
        await runToolOk(
          { command: "pbcopy", args: [], input: item.bytes, env: utf8Locale },
          limits,
        );
        return;
      }
      // AppleScript reads the image from a file: a script's text cannot carry megabytes.
      const dir = await mkdtemp(join(tmpdir(), "syncline-clip-"));
      try {
        const path = join(dir, "clip.png");
        await writeFile(path, item.bytes, { mode: 0o600 });
        // The path goes in as an argument, never into the script's text: no quoting to get wrong.
        const args = writePngScript.flatMap((line) => ["-e", line]);
        await runToolOk(
          osascript([...args, path], `(set the clipboard to the PNG ${path})`),
          limits,
        );
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}
