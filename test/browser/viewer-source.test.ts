// The viewer's source never parses HTML itself: share content reaches the DOM as text nodes
// (src/viewer/dom.ts), or as HTML that marked or highlight.js built from escaped text and that
// DOMPurify turned into a detached fragment in sanitize.ts, the one module allowed to. The
// rendering tests run hostile content in a real browser as well.

import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const viewerDir = resolve(import.meta.dirname, "../../src/viewer");
const modules = readdirSync(viewerDir).filter(
  (name) => name.endsWith(".ts") && !name.endsWith(".test.ts"),
);
const source = (name: string) => readFileSync(join(viewerDir, name), "utf8");

describe("safe rendering (source rule)", () => {
  it("no viewer module parses HTML or evaluates code", () => {
    const offenders = modules.filter((name) =>
      /innerHTML|outerHTML|insertAdjacentHTML|document\.write|DOMParser|createContextualFragment|\beval\(|new Function/.test(
        source(name),
      ),
    );
    expect(offenders).toEqual([]);
  });

  it("only sanitize.ts uses DOMPurify, and only to get nodes back, never a string", () => {
    const users = modules.filter((name) => /from "dompurify"/.test(source(name)));
    expect(users).toEqual(["sanitize.ts"]);
    const calls = source("sanitize.ts").match(/DOMPurify\.sanitize\([^;]*?\);/gs) ?? [];
    expect(calls.length).toBeGreaterThan(0);
    for (const call of calls) expect(call).toContain("RETURN_DOM_FRAGMENT: true");
  });

  it("sanitized fragments come only from sanitize.ts's two functions", () => {
    const users = modules.filter((name) => /sanitize(Markdown|Highlight)Html\(/.test(source(name)));
    expect(users.sort()).toEqual(["highlight.ts", "markdown.ts", "sanitize.ts"]);
  });
});
