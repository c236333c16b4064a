// Enforces the import directions of docs/architecture.md by reading every import in src/.

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const srcRoot = resolve(import.meta.dirname, "../src");

/** Which top-level folders each folder may import (besides itself). */
const allowed: Record<string, readonly string[]> = {
  protocol: [],
  util: [],
  transport: ["protocol", "util"],
  storage: ["protocol", "util"],
  bus: ["protocol", "util"],
  automerge: ["transport", "protocol", "util", "storage/store", "bus/bus"],
  share: ["transport", "protocol", "util", "storage/store", "bus/bus"],
  channels: ["transport", "protocol", "util", "storage/store", "bus/bus"],
  viewer: ["protocol", "share/client", "util"],
  clip: ["protocol", "util"],
  server: ["protocol", "util", "transport", "storage", "bus", "automerge", "share", "channels"],
  cli: [
    "protocol",
    "util",
    "transport",
    "storage",
    "bus",
    "automerge",
    "share",
    "channels",
    "server",
    "clip",
  ],
  "": [
    "protocol",
    "util",
    "transport",
    "storage",
    "bus",
    "automerge",
    "share",
    "channels",
    "server",
  ],
};

interface ImportEdge {
  readonly file: string;
  readonly specifier: string;
  readonly target: string | undefined;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts") ? [path] : [];
  });
}

function importsOf(file: string): ImportEdge[] {
  const text = readFileSync(file, "utf8");
  const pattern = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)["']([^"']+)["']/g;
  return [...text.matchAll(pattern)].map((match) => {
    const specifier = match[1] as string;
    const target = specifier.startsWith(".")
      ? relative(srcRoot, resolve(dirname(file), specifier)).replace(/\.js$/, "")
      : undefined;
    return { file: relative(srcRoot, file), specifier, target };
  });
}

function folderOf(path: string): string {
  return path.includes("/") ? (path.split("/")[0] as string) : "";
}

function isAllowed(from: string, target: string): boolean {
  const fromFolder = folderOf(from);
  const targetFolder = folderOf(target);
  if (fromFolder === targetFolder) return true;
  return (allowed[fromFolder] ?? []).some(
    (rule) => target === rule || target.startsWith(`${rule}/`) || targetFolder === rule,
  );
}

/**
 * Every file `entry` imports, however indirectly (type-only imports too: a browser project's type
 * check reads them), with the imports of ours that leave src/ or name a package.
 */
function importGraph(entry: string): { files: string[]; external: ImportEdge[] } {
  const seen = new Set<string>();
  const external: ImportEdge[] = [];
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const edge of importsOf(file)) {
      if (edge.target === undefined) external.push(edge);
      else {
        const path = resolve(srcRoot, edge.target);
        visit(existsSync(`${path}.ts`) ? `${path}.ts` : `${path}.js`);
      }
    }
  };
  visit(resolve(srcRoot, entry));
  return { files: [...seen].map((file) => relative(srcRoot, file)), external };
}

/**
 * Packages the browser entry may import: they must run in browsers without Node built-ins or
 * polyfills. None is needed today; add one only after checking it is browser-safe.
 */
const browserSafePackages: readonly string[] = [];

const edges = sourceFiles(srcRoot).flatMap(importsOf);
const production = edges.filter((edge) => !/\.test\.ts$/.test(edge.file));

describe("import rules (docs/architecture.md)", () => {
  it("finds the source tree", () => {
    expect(edges.length).toBeGreaterThan(10);
  });

  it("every folder imports only the folders it may", () => {
    const violations = edges
      .filter((edge) => edge.target !== undefined && !isAllowed(edge.file, edge.target))
      .map((edge) => `${edge.file} imports ${edge.specifier}`);
    expect(violations).toEqual([]);
  });

  it("nothing outside cli imports cli", () => {
    const violations = edges
      .filter((edge) => edge.target?.startsWith("cli/") && folderOf(edge.file) !== "cli")
      .map((edge) => `${edge.file} imports ${edge.specifier}`);
    expect(violations).toEqual([]);
  });

  it("production code never imports testing/", () => {
    const violations = production
      .filter((edge) => edge.target?.includes("/testing/") && !edge.file.includes("/testing/"))
      .map((edge) => `${edge.file} imports ${edge.specifier}`);
    expect(violations).toEqual([]);
  });

  it("protocol/ has no node:* imports (the browser viewer reuses it)", () => {
    const violations = edges
      .filter((edge) => folderOf(edge.file) === "protocol" && edge.specifier.startsWith("node:"))
      .map((edge) => `${edge.file} imports ${edge.specifier}`);
    expect(violations).toEqual([]);
  });

  it("the browser entry (syncline/browser) imports no node:* module and no Node-only package", () => {
    const { files, external } = importGraph("browser.ts");
    expect(files).toContain("share/client/viewer-client.ts");
    const violations = external
      .filter((edge) => !browserSafePackages.includes(edge.specifier))
      .map((edge) => `${edge.file} imports ${edge.specifier}`);
    expect(violations).toEqual([]);
  });

  it("the browser check sees what the Node client entry imports", () => {
    // The walk reaches Node code through syncline/client, so it would catch the same in browser.ts.
    const { external } = importGraph("client.ts");
    expect(external.map((edge) => edge.specifier)).toEqual(
      expect.arrayContaining(["node:crypto", "ws"]),
    );
  });

  it("only cli/index.ts calls process.exit", () => {
    const offenders = sourceFiles(srcRoot)
      .filter((file) => /process\.exit\s*\(/.test(readFileSync(file, "utf8")))
      .map((file) => relative(srcRoot, file));
    expect(offenders).toEqual(["cli/index.ts"]);
  });

  it("the rule checker itself catches a forbidden edge", () => {
    expect(isAllowed("util/backoff.ts", "server/server")).toBe(false);
    expect(isAllowed("automerge/doc.ts", "share/publish")).toBe(false);
    expect(isAllowed("automerge/doc.ts", "storage/lmdb-store")).toBe(false);
    expect(isAllowed("automerge/doc.ts", "storage/store")).toBe(true);
    expect(isAllowed("server/server.ts", "storage/lmdb-store")).toBe(true);
  });
});
