// Reading a dump (data-dump-format.ts) line by line, checking as it goes everything a dump
// promises: the header, each entry's and spool file's size against its data lines, and the
// counts and SHA-256 of the end line, with nothing after it. `syncline data import` walks a file
// twice: once to check it whole, then to import it, so a bad file imports nothing.

import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import type { StoreKey } from "../storage/store.js";
import {
  type DumpHeader,
  type DumpTotals,
  dumpError,
  maxDumpLineLength,
  parseDumpHeader,
  parseDumpLine,
} from "./data-dump-format.js";

/** What a walk hands over; each call is awaited before the next line is read. */
export interface DumpVisitor {
  /** A store entry with its whole value. */
  entry?(key: StoreKey, value: Buffer): Promise<void>;
  /** A spooled payload begins; `piece` follows with its bytes, then `spoolEnd`. */
  spoolStart?(name: string, size: number): Promise<void>;
  piece?(bytes: Buffer): Promise<void>;
  spoolEnd?(): Promise<void>;
}

/** Walks the dump at `path`; throws ERR_DATA_DUMP at the first thing wrong. */
export async function walkDump(
  path: string,
  visitor: DumpVisitor = {},
): Promise<{ header: DumpHeader } & DumpTotals> {
  const lines = readLines(path);
  const first = await lines.next();
  const header = parseDumpHeader(first.done ? undefined : first.value);
  const hash = createHash("sha256");
  const totals = { entries: 0, spoolFiles: 0, bytes: 0 };
  const spoolNames = new Set<string>();
  /** What the data lines now belong to, and the bytes it still expects. */
  let open: { kind: "entry"; key: StoreKey; pieces: Buffer[] } | { kind: "spool" } | undefined;
  let remaining = 0;
  let number = 1;
  const close = async () => {
    if (open?.kind === "entry") await visitor.entry?.(open.key, Buffer.concat(open.pieces));
    if (open?.kind === "spool") await visitor.spoolEnd?.();
    open = undefined;
  };
  for await (const text of lines) {
    number++;
    const line = parseDumpLine(text, number);
    if (line.type === "data") {
      if (open === undefined || line.bytes.length > remaining) {
        throw dumpError(number, "data beyond the size of its entry or spool file");
      }
      hash.update(line.bytes);
      totals.bytes += line.bytes.length;
      remaining -= line.bytes.length;
      if (open.kind === "entry") open.pieces.push(line.bytes);
      else await visitor.piece?.(line.bytes);
      if (remaining === 0) await close();
      continue;
    }
    if (remaining > 0) throw dumpError(number, `${remaining} bytes of the previous item missing`);
    await close();
    if (line.type === "entry") {
      open = { kind: "entry", key: line.key, pieces: [] };
      remaining = line.size;
      totals.entries++;
    } else if (line.type === "spool") {
      if (spoolNames.has(line.name)) throw dumpError(number, `spool file ${line.name} twice`);
      spoolNames.add(line.name);
      await visitor.spoolStart?.(line.name, line.size);
      open = { kind: "spool" };
      remaining = line.size;
      totals.spoolFiles++;
    } else {
      checkEnd(line, totals, hash.digest("hex"), number);
      if (!(await lines.next()).done) throw dumpError(number + 1, "lines after the end line");
      return { header, ...totals };
    }
    if (remaining === 0) await close();
  }
  throw dumpError(number, "the file ends without its end line (truncated)");
}

function checkEnd(
  end: DumpTotals & { sha256: string },
  read: DumpTotals,
  sha256: string,
  line: number,
): void {
  for (const field of ["entries", "spoolFiles", "bytes"] as const) {
    if (end[field] !== read[field]) {
      throw dumpError(
        line,
        `the end line says ${field} ${end[field]}, the file holds ${read[field]}`,
      );
    }
  }
  if (end.sha256 !== sha256) {
    throw dumpError(line, `the data's SHA-256 is ${sha256}, the end line says ${end.sha256}`);
  }
}

/** The lines of a file (without newlines); a line longer than a dump allows is refused. */
async function* readLines(path: string): AsyncGenerator<string> {
  let partial = "";
  let number = 0;
  for await (const chunk of createReadStream(path, { encoding: "utf8" })) {
    const parts = (partial + (chunk as string)).split("\n");
    partial = parts.pop() as string;
    for (const part of parts) {
      number++;
      yield part;
    }
    if (partial.length > maxDumpLineLength) {
      throw dumpError(number + 1, `a line longer than ${maxDumpLineLength} characters`);
    }
  }
  if (partial.length > 0) yield partial;
}
