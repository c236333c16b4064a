// Bad dumps import nothing: each is refused with ERR_DATA_DUMP naming the line, the store and the
// spool folder stay empty, and no name in a dump becomes a path outside the spool folder.

import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createMemoryStore } from "../storage/memory-store.js";
import type { Store } from "../storage/store.js";
import { exportData } from "./data-export.js";
import { importData } from "./data-import.js";

let dir: string;
let source: Store;
let dumpLines: string[];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "syncline-dump-"));
  source = createMemoryStore();
  await source.write([
    { type: "put", key: ["share", "abc", "meta"], value: Buffer.from('{"x":1}') },
    { type: "put", key: ["doc", "1"], value: new Uint8Array(3 * 1024 * 1024).fill(7) },
    { type: "put", key: ["empty"], value: new Uint8Array(0) },
  ]);
  const spool = join(dir, "spool-source");
  rmSync(spool, { recursive: true, force: true });
  mkdirSync(spool);
  writeFileSync(join(spool, `${"ab".repeat(16)}.payload`), Buffer.alloc(5000, 9));
  writeFileSync(join(spool, "not-a-payload.txt"), "ignored");
  dumpLines = [];
  await exportData(source, spool, async (line) => {
    dumpLines.push(line.slice(0, -1));
  });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Imports `lines` into a fresh memory store and spool folder; the code it fails with. */
async function tryImport(lines: string[]) {
  const path = join(dir, "in.dump");
  writeFileSync(path, `${lines.join("\n")}\n`);
  const store = createMemoryStore();
  const spool = join(dir, "spool-target");
  const outcome = await importData(store, spool, path).then(
    (totals) => ({ totals, code: undefined, message: "" }),
    (error: Error & { code?: string }) => ({
      totals: undefined,
      code: error.code,
      message: error.message,
    }),
  );
  const entries: string[] = [];
  for await (const entry of store.range([])) entries.push(entry.key.join("/"));
  const spooled = existsSync(spool) ? readdirSync(spool) : [];
  return { ...outcome, entries, spooled, store };
}

const replaceLine = (index: number, value: object) =>
  dumpLines.map((line, i) => (i === index ? JSON.stringify(value) : line));

describe("importData", () => {
  it("imports a whole dump: every entry and spooled payload, values in 1 MiB pieces", async () => {
    expect(dumpLines.filter((line) => line.includes('"type":"data"'))).toHaveLength(5); // 3 pieces of doc/1, the meta, the spool file
    const { code, entries, spooled, totals, store } = await tryImport(dumpLines);
    expect(code).toBeUndefined();
    expect(entries).toEqual(["doc/1", "empty", "share/abc/meta"]);
    expect(spooled).toEqual([`${"ab".repeat(16)}.payload`]);
    expect(totals).toEqual({ entries: 3, spoolFiles: 1, bytes: 3 * 1024 * 1024 + 7 + 5000 });
    expect((await store.get(["doc", "1"]))?.every((byte) => byte === 7)).toBe(true);
  });

  const refusals: [string, () => string[], RegExp][] = [
    ["an empty file", () => [], /not a JSON object/],
    ["another format", () => replaceLine(0, { format: "other" }), /not a syncline dump/],
    ["a newer version", () => replaceLine(0, { format: "syncline-dump", version: 2 }), /version 2/],
    ["no end line", () => dumpLines.slice(0, -1), /truncated/],
    [
      "a line that is not JSON",
      () => [...dumpLines.slice(0, 2), "{oops", ...dumpLines.slice(2)],
      /not a JSON object/,
    ],
    [
      "an unknown line type",
      () => [...dumpLines.slice(0, 1), '{"type":"rm -rf"}', ...dumpLines.slice(1)],
      /unknown line type/,
    ],
    [
      "lines after the end",
      () => [...dumpLines, '{"type":"data","base64":"AA=="}'],
      /after the end/,
    ],
    ["a missing data line", () => dumpLines.filter((_, i) => i !== 3), /missing|SHA-256|beyond/],
    [
      "a changed byte (the checksum)",
      () => {
        const index = dumpLines.findIndex((line) => line.includes("eyJ4IjoxfQ")); // {"x":1}
        return replaceLine(index, {
          type: "data",
          base64: Buffer.from('{"x":2}').toString("base64"),
        });
      },
      /SHA-256/,
    ],
    [
      "a spool name that is a path",
      () =>
        dumpLines.map((line) => line.replace(`${"ab".repeat(16)}.payload`, "../../escape.payload")),
      /spool file name/,
    ],
    [
      "an invalid store key",
      () => dumpLines.map((line) => line.replace('["empty"]', '[""]')),
      /key/,
    ],
    [
      "a negative size",
      () => dumpLines.map((line) => line.replace('"size":0', '"size":-1')),
      /not a size/,
    ],
    [
      "bad base64",
      () => dumpLines.map((line, i) => (i === 2 ? '{"type":"data","base64":"!!!"}' : line)),
      /base64/,
    ],
  ];
  for (const [what, lines, message] of refusals) {
    it(`refuses ${what} with ERR_DATA_DUMP and imports nothing`, async () => {
      const { code, message: text, entries, spooled } = await tryImport(lines());
      expect(code).toBe("ERR_DATA_DUMP");
      expect(text).toMatch(message);
      expect(text).toMatch(/line \d+/);
      expect(entries).toEqual([]);
      expect(spooled).toEqual([]);
      expect(existsSync(join(dir, "escape.payload"))).toBe(false);
    });
  }

  it("refuses a line longer than any a dump makes without reading it whole", async () => {
    const path = join(dir, "long.dump");
    writeFileSync(path, `${dumpLines[0]}\n${"x".repeat(3 * 1024 * 1024)}`);
    const error = await importData(createMemoryStore(), join(dir, "s"), path).catch((e) => e);
    expect(error.code).toBe("ERR_DATA_DUMP");
  });

  it("refuses a target store or spool folder that holds data (ERR_DATA_NOT_EMPTY)", async () => {
    const path = join(dir, "ok.dump");
    writeFileSync(path, `${dumpLines.join("\n")}\n`);
    const busy = createMemoryStore();
    await busy.write([{ type: "put", key: ["there"], value: new Uint8Array(1) }]);
    const error = await importData(busy, join(dir, "s1"), path).catch((e) => e);
    expect(error.code).toBe("ERR_DATA_NOT_EMPTY");
    const spool = join(dir, "s2");
    mkdirSync(spool);
    writeFileSync(join(spool, `${"cd".repeat(16)}.payload`), "x");
    const second = await importData(createMemoryStore(), spool, path).catch((e) => e);
    expect(second.code).toBe("ERR_DATA_NOT_EMPTY");
  });
});
