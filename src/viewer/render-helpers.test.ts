import { describe, expect, it } from "vitest";
import { clampLines, estimatedLines } from "./collapse.js";
import { knownLanguage, languageForPath } from "./highlight.js";
import { patchFromContents, patchOfChange } from "./render-diff.js";
import { sortTodos } from "./render-todos.js";
import { flatten } from "./render-tools.js";

describe("viewer rendering helpers", () => {
  it("orders todos: in progress, pending, completed, cancelled; stable within a status", () => {
    const todos = [
      { id: 1, status: "completed" },
      { id: 2, status: "pending" },
      { id: 3, status: "cancelled" },
      { id: 4, status: "in_progress" },
      { id: 5, status: "pending" },
    ];
    expect(sortTodos(todos).map((todo) => todo.id)).toEqual([4, 2, 5, 1, 3]);
  });

  it("flattens a tool's input into named rows", () => {
    expect(flatten({ a: { b: [1, { c: "x" }] }, d: true, e: null })).toEqual([
      ["a.b[0]", "1"],
      ["a.b[1].c", "x"],
      ["d", "true"],
      ["e", "null"],
    ]);
    expect(flatten("plain")).toEqual([["value", "plain"]]);
  });

  it("finds an edit's patch: metadata.diff, filediff.patch, or built from before/after", () => {
    expect(patchOfChange({ diff: "@@ -1 +1 @@\n-a\n+b\n" }, "x.ts")).toBe("@@ -1 +1 @@\n-a\n+b\n");
    expect(patchOfChange({ filediff: { patch: "@@ p" } }, "x.ts")).toBe("@@ p");
    const built = patchOfChange({ filediff: { before: "a\nb\n", after: "a\nc\n" } }, "x.ts");
    expect(built).toContain("--- a/x.ts");
    expect(built).toContain("@@ -1,2 +1,2 @@\n a\n-b\n+c\n");
    expect(built).not.toMatch(/^=+$/m);
    expect(patchOfChange({ diff: "" }, "x.ts")).toBeUndefined();
    expect(patchOfChange({}, "x.ts")).toBeUndefined();
    expect(patchFromContents("big", "x".repeat(300_000), "y".repeat(300_000))).toBeUndefined();
  });

  it("picks a language from a file extension or a fence name", () => {
    expect(languageForPath("/src/app.TS")).toBe("typescript");
    expect(languageForPath("run.py")).toBe("python");
    expect(languageForPath("Makefile")).toBeUndefined();
    expect(knownLanguage("sh")).toBe("sh");
    expect(knownLanguage("ts")).toBe("ts");
    expect(knownLanguage("brainfuck")).toBeUndefined();
  });

  it("estimates wrapped lines for clamping", () => {
    expect(estimatedLines("a\nb\nc")).toBe(3);
    expect(estimatedLines("x".repeat(200))).toBe(3);
    expect(clampLines.user).toBe(3);
  });
});
