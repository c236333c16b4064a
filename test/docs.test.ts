// Keeps the reference tables of docs/ equal to the tables in the code (regenerate them with
// `npm run docs`), and the docs free of citations of documents the repository does not hold.

import { readdirSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { normalizeTables, renderSections, sectionOf } from "../scripts/doc-tables.mjs";
import { configTables } from "../src/cli/client-settings.js";
import { closeCodeTable } from "../src/protocol/close-codes.js";
import { errorTable } from "../src/protocol/error-table.js";
import { exitCodeMeanings } from "../src/protocol/exit-codes.js";
import { describeMetrics } from "../src/server/metrics.js";

const root = resolve(import.meta.dirname, "..");
const read = (path: string) => readFileSync(resolve(root, path), "utf8");

const sections = renderSections({
  serverSettings: configTables.server,
  syncSettings: configTables.sync,
  shareSettings: configTables.share,
  transportSettings: configTables.transport,
  adminSettings: configTables.admin,
  errorTable,
  closeCodeTable,
  exitCodeMeanings,
  metrics: describeMetrics(),
});

describe("docs", () => {
  for (const [doc, bodies] of Object.entries(sections)) {
    for (const [name, body] of Object.entries(bodies)) {
      it(`${doc} shows the ${name} table as the code defines it (npm run docs)`, () => {
        const shown = sectionOf(read(doc), name);
        expect(shown === undefined ? undefined : normalizeTables(shown)).toBe(body);
      });
    }
  }

  it("errors.md names no error code the table does not have", () => {
    const documented = [...read("docs/errors.md").matchAll(/`(ERR_[A-Z0-9_]+)`/g)].map(
      (m) => m[1] ?? "",
    );
    expect(documented.filter((code) => !Object.hasOwn(errorTable, code))).toEqual([]);
  });

  it("nothing the repository ships cites a document outside it", () => {
    const shipped = ["README.md", ...sourceFiles(resolve(root, "docs"))];
    const pattern =
      /\.\.\/shared|DESIGN\.md|\bshare\.md|transport\.md|interface\.md|automerge-sync\.md|seed §/;
    const citing = [
      ...shipped,
      ...sourceFiles(resolve(root, "src")),
      ...sourceFiles(resolve(root, "test")),
    ]
      .filter((file) => pattern.test(readFileSync(resolve(root, file), "utf8")))
      .filter((file) => file !== "test/docs.test.ts");
    expect(citing).toEqual([]);
  });
});

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /\.(ts|js|mjs|md|html|css)$/.test(entry.name))
    .map((entry) => resolve(entry.parentPath, entry.name).slice(root.length + 1));
}
