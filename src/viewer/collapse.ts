// Long content folded as OpenCode's page folds it: text and outputs clamped to a few lines with
// "Show more" (by CSS classes, as the CSP forbids inline styles), and results behind a closed
// <details> ("Show results"). The last part of a session is shown open: it is what a reader
// watching live is reading.

import { h } from "./dom.js";

/** How many lines each kind of content shows before "Show more" (viewer.css has a class each). */
export const clampLines = { user: 3, text: 30, output: 12 } as const;
export type ClampKind = keyof typeof clampLines;

/** Characters a line holds before it wraps, for the estimate: narrow screens wrap earlier. */
const charsPerLine = 90;

/** About how many lines `text` takes on screen (wrapped lines counted). */
export function estimatedLines(text: string): number {
  let lines = 0;
  for (const line of text.split("\n")) lines += Math.max(1, Math.ceil(line.length / charsPerLine));
  return lines;
}

/**
 * `content` clamped to its kind's lines with a "Show more"/"Show less" button, when `text` (what
 * it shows) is longer than that and it is not to be shown `expanded`; otherwise `content` as is.
 */
export function clamp(
  content: HTMLElement,
  text: string,
  kind: ClampKind,
  expanded: boolean,
): HTMLElement {
  if (expanded || estimatedLines(text) <= clampLines[kind]) return content;
  content.classList.add("clamped", `clamp-${kind}`);
  const button = h("button", { className: "show-more", attrs: { type: "button" } }, "Show more");
  button.setAttribute("aria-expanded", "false");
  button.addEventListener("click", () => {
    const open = content.classList.toggle("clamped");
    button.textContent = open ? "Show more" : "Show less";
    button.setAttribute("aria-expanded", String(!open));
  });
  return h("div", "clamp", content, button);
}

/** `content` behind a <details> whose summary is `label`, open when `expanded`. */
export function results(label: string, content: HTMLElement, expanded: boolean): HTMLElement {
  const details = h("details", "results", h("summary", null, label), content);
  details.open = expanded;
  return details;
}
