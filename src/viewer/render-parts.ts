// One element per visible part, as OpenCode's share page shows it: assistant text as markdown,
// the user's text as typed (clamped to a few lines), reasoning folded under "Thinking", tool
// calls by kind (render-tools.ts), the first step of a reply as a small marker naming the model,
// files, agents, subtasks, retries, compactions — and any other type shown plainly as JSON.
// Share content becomes text nodes, or sanitized markdown (markdown.ts), nothing else.

import { clamp } from "./collapse.js";
import { h, ownEntry } from "./dom.js";
import { formatDuration, formatValue, truncateText } from "./format.js";
import { renderMarkdown } from "./markdown.js";
import { errorText, renderTool } from "./render-tools.js";
import { finite, isObject, type Loose, type ModelRef, type PartEntry } from "./session-model.js";

export { errorText } from "./render-tools.js";

/** Fields every part has; not listed as "other fields". */
const commonFields = ["id", "sessionID", "messageID", "type"];

/** The fields each known part type has (as OpenCode's clients send them); others are shown as "other fields". */
const knownFields: Readonly<Record<string, readonly string[]>> = {
  text: ["text", "synthetic", "ignored", "time", "metadata"],
  reasoning: ["text", "time", "metadata"],
  tool: ["callID", "tool", "state", "metadata"],
  file: ["mime", "filename", "url", "source"],
  "step-start": ["snapshot"],
  agent: ["name", "source"],
  subtask: ["prompt", "description", "agent"],
  retry: ["attempt", "error", "time"],
  compaction: ["auto"],
};

/** Where a part is shown: its message's role and model, and whether it is the session's last. */
export interface PartPlace {
  readonly role: string;
  readonly model: ModelRef | undefined;
  readonly last: boolean;
}

/** Renders one part; never throws (a part that cannot be rendered is shown as JSON). */
export function renderPart(part: PartEntry, place: PartPlace): HTMLElement {
  let body: HTMLElement;
  try {
    body = renderKnown(part, place) ?? renderUnknown(part);
  } catch {
    body = renderUnknown(part);
  }
  body.dataset.partId = part.id;
  const extra = extraFields(part.data, ownEntry(knownFields, part.type));
  if (extra) body.appendChild(extra);
  return body;
}

function renderKnown(part: PartEntry, place: PartPlace): HTMLElement | undefined {
  const data = part.data;
  switch (part.type) {
    case "text":
      return renderText(String(data.text), place);
    case "reasoning":
      return renderReasoning(data, place);
    case "tool":
      return renderTool(data, place);
    case "file":
      return renderFile(data);
    case "step-start":
      return renderStepMarker(place.model);
    case "agent":
      return h("div", "part part-agent", "agent ", h("strong", null, formatValue(data.name)));
    case "subtask":
      return h(
        "div",
        "part part-subtask",
        h("div", "label", `subtask${data.agent ? ` (${formatValue(data.agent)})` : ""}`),
        data.description !== undefined ? h("div", "text", formatValue(data.description)) : null,
        data.prompt !== undefined
          ? collapsed("prompt", h("pre", null, formatValue(data.prompt)))
          : null,
      );
    case "retry":
      return h(
        "div",
        "part part-retry",
        h("span", "label", `retry ${formatValue(data.attempt)}`),
        data.error !== undefined ? h("pre", "error", errorText(data.error)) : null,
      );
    case "compaction":
      return h(
        "div",
        "part part-compaction",
        data.auto ? "session compacted (auto)" : "session compacted",
      );
    default:
      return undefined;
  }
}

/** The user's words as typed (clamped to three lines); an assistant's as markdown. */
function renderText(text: string, place: PartPlace): HTMLElement {
  if (place.role === "user") {
    const shown = h("div", "text user-text", text);
    return h("div", "part part-text", clamp(shown, text, "user", place.last));
  }
  return h("div", "part part-text", clamp(renderMarkdown(text), text, "text", place.last));
}

/** A reply's first step: which model answered (the filter drops a step without a model). */
function renderStepMarker(model: ModelRef | undefined): HTMLElement {
  const name = model ? [model.providerID, model.modelID].filter(Boolean).join(" · ") : "";
  return h("div", "part part-step", h("span", "step-model", name));
}

function renderReasoning(data: Loose, place: PartPlace): HTMLElement {
  const time = isObject(data.time) ? data.time : {};
  const start = finite(time.start);
  const end = finite(time.end);
  const took = start !== undefined && end !== undefined ? ` (${formatDuration(end - start)})` : "";
  const details = collapsed(
    `Thinking${took}`,
    renderMarkdown(formatValue(data.text), "reasoning-text"),
    "part part-reasoning",
  );
  if (place.last) details.setAttribute("open", "");
  return details;
}

function renderFile(data: Loose): HTMLElement {
  const url = typeof data.url === "string" ? data.url : undefined;
  // Never loaded or linked: the viewer makes no requests, and a link could carry javascript:.
  const where = url?.startsWith("data:") ? `inline data, ${url.length} characters` : (url ?? "");
  return h(
    "div",
    "part part-file",
    h("span", "label", "Attachment "),
    h("strong", null, formatValue(data.filename ?? "(unnamed)")),
    data.mime !== undefined ? h("span", "file-mime", ` ${formatValue(data.mime)}`) : null,
    where ? h("div", "file-url", where) : null,
  );
}

function renderUnknown(part: PartEntry): HTMLElement {
  return h(
    "div",
    "part part-unknown",
    h("div", "label", part.type ? `${part.type} part` : "part without a type"),
    longPre(formatValue(part.data), "plain"),
  );
}

/** Fields of `data` outside the known ones of its type, as a collapsed JSON block. */
function extraFields(data: Loose, known: readonly string[] | undefined): HTMLElement | undefined {
  if (!known) return undefined;
  const extra = Object.keys(data).filter(
    (key) => !commonFields.includes(key) && !known.includes(key),
  );
  if (extra.length === 0) return undefined;
  const shown = Object.fromEntries(extra.map((key) => [key, data[key]]));
  return collapsed("other fields", h("pre", "plain", formatValue(shown)), "other-fields");
}

/** A `<pre>` that shows long text cut, with a "show more" button revealing the rest. */
export function longPre(text: string, className = ""): HTMLElement {
  const cut = truncateText(text);
  const pre = h("pre", className || null, cut ?? text);
  if (cut === undefined) return pre;
  pre.classList.add("truncated");
  const more = h("button", { className: "show-more", attrs: { type: "button" } });
  more.textContent = `show more (${text.length - cut.length} more characters)`;
  more.addEventListener("click", () => {
    pre.textContent = text;
    pre.classList.remove("truncated");
    more.remove();
  });
  return h("div", "long", pre, more);
}

function collapsed(label: string, content: HTMLElement, className = ""): HTMLElement {
  return h("details", className || null, h("summary", null, label), content);
}
