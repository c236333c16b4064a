// The X11 CLIPBOARD selection (the one Ctrl-C and Ctrl-V use, not PRIMARY) through xclip, which
// can list the offered targets (for the password manager marker) and read and serve any target
// by name. The X server's XFIXES extension tells of changes (x11-watch.ts); where it cannot, the
// caller polls `read`.
//
// While the clipboard still holds an item this backend wrote, `read` does not fetch it again: it
// answers from memory. xclip serves a large item (X11's incremental transfer, over about 1 MiB on
// a usual server) to one requestor at a time and drops any request that comes meanwhile, so a
// poll fetching a 2 MiB image every 200 ms would make the user's own paste hang now and then;
// and a reader killed in mid-transfer leaves xclip stuck for good. The item counts as still held
// while the xclip process that serves it lives (it exits when another application takes the
// clipboard) and the selection still offers the targets it offered just after the write. (One
// case slips through: our xclip stuck by a reader killed mid-transfer, and then another xclip
// copying an item of the same type. That copy is seen once ours exits.)
//
// Another application's item is not fetched again either while its owner answers the TIMESTAMP
// target with the same time as at the last read (see ownerStamp); owners that do not answer it
// (xclip, xsel) have their item read in full at every poll.

import {
  type Clipboard,
  type ClipboardOptions,
  type ClipItem,
  type ClipRead,
  itemRead,
  nothingRead,
  pngMime,
  textMime,
  writableKind,
} from "./clipboard.js";
import { type CarriedType, readOffered, typeLines } from "./offered.js";
import { failed, limitsOf, runTool, type ToolCall } from "./run-tool.js";
import { ServingProcess } from "./serving-process.js";
import { watchX11Clipboard } from "./x11-watch.js";

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

/**
 * How long a target list may take while our own xclip serves the clipboard. An idle xclip answers
 * at once; no answer means it is busy sending the item to a paste (see above), and the item is
 * then still the one we wrote.
 */
const servedQueryMs = 300;

/** The item this backend wrote, while the xclip it started may still be serving it. */
interface ServedItem {
  readonly item: ClipItem;
  /** The xclip process serving it. */
  readonly server: ServingProcess;
  /** The targets the selection offered at the first read after the write. */
  targets?: string;
}

/** The X11 clipboard through xclip; DISPLAY must name the X server. */
export function createXclipClipboard(options: ClipboardOptions = {}): Clipboard {
  const limits = limitsOf(options);

  let served: ServedItem | undefined;
  /** The last read of another application's item, by its owner's stamp (see ownerStamp). */
  let stamped: { readonly stamp: string; readonly read: ClipRead } | undefined;

  /** Runs `xclip -o` for `target`; undefined when it is not (or no longer) offered. */
  const output = async (target: string, timeoutMs?: number): Promise<Buffer | undefined> => {
    const call: ToolCall = {
      command: "xclip",
      args: [...selection, "-t", target, "-o"],
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
    };
    const result = await runTool(call, limits);
    if (result.code === 0) return result.stdout;
    if (emptyClipboard.test(result.stderr)) return undefined;
    throw failed(call, result);
  };
  const listTargets = async (timeoutMs?: number) => {
    const targets = await output("TARGETS", timeoutMs);
    return targets === undefined ? undefined : typeLines(targets);
  };

  /**
   * The owner's TIMESTAMP with its target list, when it offers one (toolkits do: GTK, Qt,
   * Chromium; xclip and xsel do not), else undefined. ICCCM has an owner answer with the time it
   * took the selection, so a new copy, even in the same application, answers another.
   */
  const ownerStamp = async (types: readonly string[]): Promise<string | undefined> => {
    if (!types.includes("TIMESTAMP")) return undefined;
    let answer: Buffer | undefined;
    try {
      answer = await output("TIMESTAMP", servedQueryMs);
    } catch {
      return undefined; // no stamp this time: the item is read in full, as without one
    }
    const time = answer?.toString("latin1").trim();
    // 0 is CurrentTime: an owner that did not record when it took the selection.
    if (time === undefined || !/^\d+$/.test(time) || Number(time) === 0) return undefined;
    return `${time} ${[...types].sort().join(" ")}`;
  };

  /**
   * The item we wrote if the clipboard still holds it (see the top of this file); otherwise
   * undefined, with the target list just read when there is one, so that it is not read twice.
   */
  const stillServed = async (): Promise<
    { item: ClipItem } | { targets: readonly string[] | undefined } | undefined
  > => {
    const own = served;
    if (own === undefined) return undefined;
    if (!own.server.alive()) {
      served = undefined;
      return undefined;
    }
    let targets: readonly string[] | undefined;
    try {
      targets = await listTargets(servedQueryMs);
    } catch {
      // Our xclip lives and, as the owner, did not answer in time: it is busy serving a paste.
      // (A tool failure for another reason shows at the first read after our xclip is gone.)
      if (own.server.alive()) return { item: own.item };
      served = undefined;
      return undefined;
    }
    const offered = targets === undefined ? undefined : [...targets].sort().join("\n");
    own.targets ??= offered;
    if (offered !== undefined && offered === own.targets) return { item: own.item };
    served = undefined; // another application's item, offering other targets
    return { targets };
  };

  return {
    backend: "x11-xclip",
    detectsConcealed: true,

    async read() {
      const known = await stillServed();
      if (known !== undefined && "item" in known) return itemRead(known.item);
      const types = known === undefined ? await listTargets() : known.targets;
      if (types === undefined) {
        stamped = undefined;
        return nothingRead;
      }
      // Read before the content: a change in between only pairs an older stamp with the newer
      // item, and the next read, seeing another stamp, reads it again.
      const stamp = await ownerStamp(types);
      if (stamp !== undefined && stamped?.stamp === stamp) return stamped.read;
      const read = await readOffered(preference, {
        listTypes: async () => types,
        fetch: (target) => output(target),
      });
      stamped = stamp === undefined ? undefined : { stamp, read };
      return read;
    },

    watch(onChange, onError) {
      return watchX11Clipboard(limits.env.DISPLAY, onChange, onError);
    },

    async write(item: ClipItem) {
      // xclip serves one target per run: UTF8_STRING is the one every X11 application asks
      // for text (GTK and Qt included).
      const target = writableKind(item) === "text" ? "UTF8_STRING" : pngMime;
      // xclip reads stdin to the end, takes the selection and forks a process that serves it
      // until another application copies; the parent's exit means the clipboard holds the item.
      // The forked process keeps stdout and stderr open: stdout is not even piped, and the run
      // ends at the exit (see ToolCall.forks).
      served = undefined;
      stamped = undefined;
      const call: ToolCall = {
        command: "xclip",
        args: [...selection, "-t", target, "-i"],
        input: item.bytes,
        forks: true,
      };
      const result = await runTool(call, limits);
      if (result.code !== 0) throw failed(call, result);
      if (result.pid !== undefined) served = { item, server: new ServingProcess(result.pid) };
    },
  };
}
