// File diffs: the session's changed files (`session_diff`) and an edit's change, always shown as
// a unified diff with its hunk headers and each line coloured by its prefix. A change given as
// before/after contents (older OpenCode versions) becomes a patch with the `diff` package first.
// Text nodes only.

import { createTwoFilesPatch } from "diff";
import { h } from "./dom.js";
import { formatValue } from "./format.js";
import { type DiffFile, isObject, type Loose } from "./session-model.js";

/** Contents longer than this are not diffed in the page (the diff is quadratic at worst). */
export const diffableChars = 500_000;

/** A unified patch from a file's contents before and after, or undefined when too large. */
export function patchFromContents(file: string, before: string, after: string): string | undefined {
  if (before.length + after.length > diffableChars) return undefined;
  const patch = createTwoFilesPatch(`a/${file}`, `b/${file}`, before, after, "", "", {
    context: 3,
  });
  // The header's "===" line and an empty timestamp say nothing here.
  return patch.replace(/^=+\n/m, "");
}

/**
 * The patch of an edit's metadata: `diff` (a unified diff), `filediff.patch`, or a patch built
 * from `filediff.before`/`after`; undefined when it has none.
 */
export function patchOfChange(metadata: Loose, path: string | undefined): string | undefined {
  if (typeof metadata.diff === "string" && metadata.diff.trim() !== "") return metadata.diff;
  const change = isObject(metadata.filediff) ? metadata.filediff : undefined;
  if (!change) return undefined;
  if (typeof change.patch === "string" && change.patch.trim() !== "") return change.patch;
  if (typeof change.before === "string" || typeof change.after === "string") {
    const file = typeof change.file === "string" ? change.file : (path ?? "file");
    return patchFromContents(file, String(change.before ?? ""), String(change.after ?? ""));
  }
  return undefined;
}

/** Lines of a patch shown before "show more". */
export const patchLinesShown = 400;

/** The classification of one unified-diff line, for its colour. */
export function diffLineKind(line: string): "add" | "del" | "hunk" | "meta" | "context" {
  if (line.startsWith("+++") || line.startsWith("---")) return "meta";
  if (line.startsWith("@@")) return "hunk";
  if (line.startsWith("+")) return "add";
  if (line.startsWith("-")) return "del";
  if (/^(diff |index |Index: |={3,}|new file|deleted file|similarity|rename )/.test(line)) {
    return "meta";
  }
  return "context";
}

/** A unified patch as a `<pre>`, one line per span; very long patches end in "show more". */
export function renderPatch(patch: string): HTMLElement {
  // "Index:" and "====" lines (as jsdiff writes them) repeat the file name the header shows.
  const lines = patch
    .replace(/\n$/, "")
    .split("\n")
    .filter((line) => !/^(Index: |={3,}$)/.test(line));
  const pre = h("pre", "diff");
  const addLines = (from: number, to: number) => {
    for (const line of lines.slice(from, to)) {
      pre.appendChild(h("span", `diff-line diff-${diffLineKind(line)}`, line, "\n"));
    }
  };
  addLines(0, patchLinesShown);
  if (lines.length <= patchLinesShown) return pre;
  const more = h("button", { className: "show-more", attrs: { type: "button" } });
  more.textContent = `show ${lines.length - patchLinesShown} more lines`;
  more.addEventListener("click", () => {
    addLines(patchLinesShown, lines.length);
    more.remove();
  });
  return h("div", "diff-wrap", pre, more);
}

/** The session's changed files: name, status, +additions −deletions, and the patch. */
export function renderDiffSection(files: readonly DiffFile[]): HTMLElement {
  const section = h(
    "section",
    { className: "session-diff", attrs: { "aria-label": "Changed files" } },
    h("h2", null, `Changed files (${files.length})`),
  );
  for (const file of files) section.appendChild(renderDiffFile(file));
  return section;
}

function renderDiffFile(file: DiffFile): HTMLElement {
  const summary = h(
    "summary",
    "diff-file-header",
    h("span", "diff-file-name", file.file),
    file.status ? h("span", "diff-file-status", file.status) : undefined,
    file.additions !== undefined ? h("span", "diff-add-count", `+${file.additions}`) : undefined,
    file.deletions !== undefined ? h("span", "diff-del-count", `−${file.deletions}`) : undefined,
  );
  const details = h("details", "diff-file", summary);
  details.open = true;
  const built =
    file.patch === undefined && (file.before !== undefined || file.after !== undefined)
      ? patchFromContents(file.file, file.before ?? "", file.after ?? "")
      : undefined;
  if (file.patch !== undefined || built !== undefined) {
    details.appendChild(renderPatch((file.patch ?? built) as string));
  } else if (file.before !== undefined || file.after !== undefined) {
    details.appendChild(h("div", "diff-label", "too large to compare here; after:"));
    details.appendChild(h("pre", "diff-after", file.after ?? ""));
  } else {
    details.appendChild(h("pre", "plain", formatValue(file.data)));
  }
  return details;
}
