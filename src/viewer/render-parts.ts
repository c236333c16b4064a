// One element per visible part: text, reasoning (collapsed), tool calls (status, input, output),
// files, steps, agents, subtasks, retries, compactions — and any other type shown plainly as
// JSON. Content is only ever a text node; unknown fields are listed, never dropped or trusted.

import { h } from "./dom.js";
import { formatDuration, formatValue, truncateText } from "./format.js";
import { renderPatch } from "./render-diff.js";
import { finite, isObject, type Loose, nonEmptyString, type PartEntry } from "./session-model.js";

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

/** Renders one part; never throws (a part that cannot be rendered is shown as JSON). */
export function renderPart(part: PartEntry): HTMLElement {
  let body: HTMLElement;
  try {
    body = renderKnown(part) ?? renderUnknown(part);
  } catch {
    body = renderUnknown(part);
  }
  body.dataset.partId = part.id;
  const extra = extraFields(part.data, knownFields[part.type]);
  if (extra) body.appendChild(extra);
  return body;
}

function renderKnown(part: PartEntry): HTMLElement | undefined {
  const data = part.data;
  switch (part.type) {
    case "text":
      return h("div", "part part-text", h("div", "text", String(data.text)));
    case "reasoning":
      return renderReasoning(data);
    case "tool":
      return renderTool(data);
    case "file":
      return renderFile(data);
    case "step-start":
      return h("div", "part part-step", "step");
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

function renderReasoning(data: Loose): HTMLElement {
  const time = isObject(data.time) ? data.time : {};
  const start = finite(time.start);
  const end = finite(time.end);
  const took = start !== undefined && end !== undefined ? ` (${formatDuration(end - start)})` : "";
  return collapsed(
    `Thinking${took}`,
    h("div", "text", formatValue(data.text)),
    "part part-reasoning",
  );
}

function renderTool(data: Loose): HTMLElement {
  const state = isObject(data.state) ? data.state : {};
  const status = nonEmptyString(state.status) ?? "unknown";
  const time = isObject(state.time) ? state.time : {};
  const start = finite(time.start);
  const end = finite(time.end);
  const element = h(
    "div",
    `part part-tool tool-${status}`,
    h(
      "div",
      "tool-header",
      h("span", "tool-name", formatValue(data.tool ?? "tool")),
      h("span", `tool-status status-${status}`, status),
      nonEmptyString(state.title) ? h("span", "tool-title", String(state.title)) : null,
      start !== undefined && end !== undefined
        ? h("span", "tool-duration", formatDuration(end - start))
        : null,
    ),
  );
  if (state.input !== undefined)
    element.appendChild(section("input", longPre(formatValue(state.input))));
  if (state.output !== undefined) {
    element.appendChild(section("output", longPre(formatValue(state.output))));
  }
  if (state.error !== undefined) {
    element.appendChild(section("error", longPre(errorText(state.error), "error")));
  }
  const metadata = isObject(state.metadata) ? state.metadata : undefined;
  if (typeof metadata?.diff === "string" && metadata.diff !== "") {
    element.appendChild(section("diff", renderPatch(metadata.diff)));
  }
  return element;
}

function renderFile(data: Loose): HTMLElement {
  const url = typeof data.url === "string" ? data.url : undefined;
  // Never loaded or linked: the viewer makes no requests, and a link could carry javascript:.
  const where = url?.startsWith("data:") ? `inline data, ${url.length} characters` : (url ?? "");
  return h(
    "div",
    "part part-file",
    h("span", "label", "file "),
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

function section(label: string, content: HTMLElement): HTMLElement {
  return h("div", `tool-section tool-${label}`, h("div", "section-label", label), content);
}

function collapsed(label: string, content: HTMLElement, className = ""): HTMLElement {
  return h("details", className || null, h("summary", null, label), content);
}

/** An error as text: a string, `{name, data:{message}}`, `{message}`, or JSON. */
export function errorText(error: unknown): string {
  if (typeof error === "string") return error;
  if (isObject(error)) {
    const data = isObject(error.data) ? error.data : {};
    const message = nonEmptyString(data.message) ?? nonEmptyString(error.message);
    const name = nonEmptyString(error.name);
    if (message) return name ? `${name}: ${message}` : message;
  }
  return formatValue(error);
}
