// The Windows clipboard through Windows PowerShell (powershell.exe, on every Windows 10 and 11),
// one run per read or write; the scripts are in windows-scripts.ts. Windows does not tell a
// command-line tool of changes, so the caller polls `read`; each poll starts PowerShell (a few
// hundred milliseconds of CPU), so poll no faster than about once a second.

import {
  type Clipboard,
  type ClipboardOptions,
  type ClipItem,
  type ClipRead,
  concealedRead,
  itemRead,
  nothingRead,
  pngItem,
  textItem,
  writableKind,
} from "./clipboard.js";
import { isConcealed } from "./concealed.js";
import { limitsOf, runToolOk, type ToolCall, toolError } from "./run-tool.js";
import {
  powershellArgs,
  readScript,
  writeImageScript,
  writeTextScript,
} from "./windows-scripts.js";

/** The Windows clipboard. */
export function createWindowsClipboard(options: ClipboardOptions = {}): Clipboard {
  const limits = limitsOf(options);
  const powershell = (script: string, what: string, input?: Uint8Array): ToolCall => ({
    command: "powershell",
    args: powershellArgs(script),
    shown: `powershell -NoProfile -NonInteractive -STA -EncodedCommand <${what}>`,
    // base64 takes 4 characters for 3 bytes; the list of formats is short.
    maxBytes: Math.ceil(limits.maxBytes / 3) * 4 + 64 * 1024,
    ...(input === undefined ? {} : { input }),
  });

  return {
    backend: "windows",
    detectsConcealed: true,

    async read() {
      const call = powershell(readScript, "read the clipboard");
      return parseRead(call, await runToolOk(call, limits), limits.maxBytes);
    },

    async write(item: ClipItem) {
      const kind = writableKind(item);
      const base64 = Buffer.from(Buffer.from(item.bytes).toString("base64"), "ascii");
      const call =
        kind === "text"
          ? powershell(writeTextScript, "put text on the clipboard", base64)
          : powershell(writeImageScript, "put a PNG image on the clipboard", base64);
      await runToolOk(call, limits);
    },
  };
}

/** The read script's output as a ClipRead. */
function parseRead(call: ToolCall, output: Buffer, maxBytes: number): ClipRead {
  const formats: string[] = [];
  let item: ClipItem | undefined;
  for (const line of output.toString("utf8").split(/\r?\n/)) {
    const space = line.indexOf(" ");
    const [tag, value] = space < 0 ? [line, ""] : [line.slice(0, space), line.slice(space + 1)];
    if (tag === "format") formats.push(value);
    else if (tag === "text" || tag === "image") {
      const bytes = Buffer.from(value.trim(), "base64");
      if (bytes.length > maxBytes) {
        throw toolError(
          call,
          `read an item of ${bytes.length} bytes, more than the item size limit (${maxBytes})`,
        );
      }
      item = tag === "text" ? textItem(bytes) : pngItem(bytes);
    }
  }
  if (isConcealed(formats)) return concealedRead;
  return item === undefined ? nothingRead : itemRead(item);
}
