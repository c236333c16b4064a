// The session header (title, details, totals) and one message (role, model, time, cost and
// tokens of an assistant reply, its error, its parts). Parts come rendered from the caller so
// unchanged ones are reused across live updates.

import { h } from "./dom.js";
import {
  formatCost,
  formatDuration,
  formatTime,
  formatTokens,
  formatValue,
  isoTime,
} from "./format.js";
import { errorText } from "./render-parts.js";
import {
  finite,
  isObject,
  type Loose,
  type MessageView,
  nonEmptyString,
  type SessionView,
} from "./session-model.js";

/** Message fields shown in the header or deliberately not shown; the rest are "other fields". */
const knownMessageFields = new Set([
  "id",
  "sessionID",
  "role",
  "time",
  "agent",
  "mode",
  "model",
  "modelID",
  "providerID",
  "summary",
  "error",
  "parentID",
  "path",
  "cost",
  "tokens",
  "finish",
  "system",
  "tools",
  "variant",
]);

/** The page header: title, session details and the totals over assistant messages. */
export function renderHeader(view: SessionView): HTMLElement {
  const info = view.info ?? {};
  const time = isObject(info.time) ? info.time : {};
  const created = finite(time.created);
  const updated = finite(time.updated);
  const summary = isObject(info.summary) ? info.summary : undefined;
  const { totals } = view;
  const tokens = totals.tokens;
  const facts: [string, string][] = [
    ["messages", String(totals.messages)],
    ["cost", formatCost(totals.cost)],
    ["input tokens", formatTokens(tokens.input)],
    ["output tokens", formatTokens(tokens.output)],
  ];
  if (tokens.reasoning) facts.push(["reasoning tokens", formatTokens(tokens.reasoning)]);
  if (tokens.cacheRead || tokens.cacheWrite) {
    facts.push([
      "cache read / write",
      `${formatTokens(tokens.cacheRead)} / ${formatTokens(tokens.cacheWrite)}`,
    ]);
  }
  if (summary) {
    facts.push([
      "changes",
      `${formatValue(summary.files ?? 0)} files +${formatValue(summary.additions ?? 0)} −${formatValue(summary.deletions ?? 0)}`,
    ]);
  }
  const totalsList = h("dl", "totals");
  for (const [label, value] of facts) {
    totalsList.appendChild(h("div", "fact", h("dt", null, label), h("dd", null, value)));
  }
  return h(
    "header",
    "session-header",
    h("h1", "session-title", view.title),
    h(
      "div",
      "session-meta",
      nonEmptyString(info.directory) ? h("span", "session-dir", String(info.directory)) : null,
      created !== undefined ? h("span", null, "started ", timeElement(created)) : null,
      updated !== undefined ? h("span", null, "updated ", timeElement(updated)) : null,
    ),
    totalsList,
    totals.models.length > 0
      ? h(
          "div",
          "models",
          "models: ",
          ...totals.models.map((model) =>
            h(
              "span",
              {
                className: "model",
                attrs: { title: `${model.ref.providerID}/${model.ref.modelID}` },
              },
              model.name,
            ),
          ),
        )
      : null,
  );
}

/** One message: its header, its error (assistant), its rendered parts and any unknown fields. */
export function renderMessage(message: MessageView, parts: readonly HTMLElement[]): HTMLElement {
  const role = message.role;
  const data = message.data ?? {};
  const article = h(
    "article",
    { className: `message message-${/^[a-z-]+$/.test(role) ? role : "other"}` },
    renderMessageHeader(message, data),
  );
  article.dataset.messageId = message.id;
  if (data.error !== undefined)
    article.appendChild(h("pre", "message-error error", errorText(data.error)));
  const list = h("div", "parts", ...parts);
  // Only the new shape says when a reply completed; the older one (time: number) never does.
  const unfinished = isObject(data.time) && message.completed === undefined;
  if (parts.length === 0 && role === "assistant" && unfinished) {
    list.appendChild(h("div", "working", "working…"));
  }
  article.appendChild(list);
  const extra = Object.keys(data).filter((key) => !knownMessageFields.has(key));
  if (extra.length > 0) {
    const shown = Object.fromEntries(extra.map((key) => [key, data[key]]));
    article.appendChild(
      h(
        "details",
        "other-fields",
        h("summary", null, "other fields"),
        h("pre", "plain", formatValue(shown)),
      ),
    );
  }
  return article;
}

function renderMessageHeader(message: MessageView, data: Loose): HTMLElement {
  const header = h("div", "message-header", h("span", "role", message.role));
  const agent = nonEmptyString(data.agent) ?? nonEmptyString(data.mode);
  if (agent) header.appendChild(h("span", "agent", agent));
  if (message.model) {
    header.appendChild(
      h(
        "span",
        { className: "model", attrs: { title: message.model.providerID } },
        message.model.modelID,
      ),
    );
  }
  if (message.created !== undefined) {
    header.appendChild(timeElement(message.created));
  }
  if (message.created !== undefined && message.completed !== undefined) {
    header.appendChild(h("span", "duration", formatDuration(message.completed - message.created)));
  }
  if (message.role === "assistant") {
    const cost = finite(data.cost);
    if (cost !== undefined) header.appendChild(h("span", "cost", formatCost(cost)));
    const tokens = isObject(data.tokens) ? data.tokens : undefined;
    if (tokens) {
      const input = finite(tokens.input) ?? 0;
      const output = finite(tokens.output) ?? 0;
      header.appendChild(
        h("span", "tokens", `${formatTokens(input)} in · ${formatTokens(output)} out`),
      );
    }
  }
  if (!message.data) header.appendChild(h("span", "pending", "message not received yet"));
  return header;
}

/** A `<time>` in the reader's zone, with the exact UTC instant as its datetime and tooltip. */
function timeElement(ms: number): HTMLElement {
  const iso = isoTime(ms);
  return h("time", { className: "time", attrs: { datetime: iso, title: iso } }, formatTime(ms));
}
