// File diffs: the session's changed files (`session_diff`) and unified patches (also a tool's
// `metadata.diff`), each line coloured by its prefix. Text nodes only.

import { h } from "./dom.js";
import { formatValue } from "./format.js";
import type { DiffFile } from "./session-model.js";

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
  const lines = patch.replace(/\n$/, "").split("\n");
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
  if (file.patch !== undefined) {
    details.appendChild(renderPatch(file.patch));
  } else if (file.before !== undefined || file.after !== undefined) {
    details.appendChild(h("div", "diff-label", "before"));
    details.appendChild(h("pre", "diff-before", file.before ?? ""));
    details.appendChild(h("div", "diff-label", "after"));
    details.appendChild(h("pre", "diff-after", file.after ?? ""));
  } else {
    details.appendChild(h("pre", "plain", formatValue(file.data)));
  }
  return details;
}
