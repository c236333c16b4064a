// Reading by offered types, for the backends whose tools list what the clipboard offers before
// they fetch one type of it (wl-paste, xclip): list, check for a do-not-share marker, pick the
// best type we carry, fetch it. Only the list is read for a concealed item.

import {
  type ClipRead,
  concealedRead,
  itemRead,
  nothingRead,
  pngItem,
  textItem,
} from "./clipboard.js";
import { isConcealed } from "./concealed.js";

/** A type we can carry, and how its bytes become an item. */
export interface CarriedType {
  readonly type: string;
  readonly kind: "text" | "image";
  /** ISO 8859-1 text (X11's STRING), converted to UTF-8. */
  readonly latin1?: boolean;
}

/**
 * The first of `preference` that `types` offers. Text comes first in every preference: a file
 * copied in a file manager often offers both its name and a thumbnail, and the name is what the
 * user meant.
 */
export function pickType(
  types: readonly string[],
  preference: readonly CarriedType[],
): CarriedType | undefined {
  const offered = new Set(types.map((type) => type.trim()));
  return preference.find((candidate) => offered.has(candidate.type));
}

/** Reads through `tools`: undefined from `listTypes` means an empty clipboard. */
export async function readOffered(
  preference: readonly CarriedType[],
  tools: {
    listTypes(): Promise<readonly string[] | undefined>;
    /** The content as `type`; undefined if it vanished meanwhile (cleared between the runs). */
    fetch(type: string): Promise<Uint8Array | undefined>;
  },
): Promise<ClipRead> {
  const types = await tools.listTypes();
  if (types === undefined) return nothingRead;
  if (isConcealed(types)) return concealedRead;
  const chosen = pickType(types, preference);
  if (chosen === undefined) return nothingRead;
  const bytes = await tools.fetch(chosen.type);
  if (bytes === undefined) return nothingRead;
  if (chosen.kind === "image") return itemRead(pngItem(bytes));
  return itemRead(textItem(chosen.latin1 ? latin1ToUtf8(bytes) : bytes));
}

/** The lines of a type list, without blanks. */
export function typeLines(output: Uint8Array): string[] {
  return Buffer.from(output)
    .toString("utf8")
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "");
}

function latin1ToUtf8(bytes: Uint8Array): Uint8Array {
  return Buffer.from(Buffer.from(bytes).toString("latin1"), "utf8");
}
