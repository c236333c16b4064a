// A completed or failed tool call, rendered by kind as OpenCode's share page does: the shell's
// command and output, a file read's preview, a write's contents, an edit's diff, a todo list,
// searches with their counts, a fetched URL, a subagent's task; any other tool as its name, its
// input as rows and its output. Errors are red with an "Error" label. No box is drawn for
// nothing: an empty output is not shown.

import { clamp, results } from "./collapse.js";
import { h, ownEntry } from "./dom.js";
import { formatDuration, formatValue } from "./format.js";
import { codeBlock, languageForPath } from "./highlight.js";
import { renderMarkdown } from "./markdown.js";
import { patchOfChange, renderPatch } from "./render-diff.js";
import { renderTodos } from "./render-todos.js";
import { finite, isObject, type Loose, nonEmptyString } from "./session-model.js";

/** A tool's duration is shown only when it took longer than this (short ones are noise). */
export const shownDurationMs = 2000;

/** Where a part is: the last part of the session is shown expanded. */
export interface PartContext {
  readonly last: boolean;
}

interface ToolCall {
  readonly tool: string;
  readonly input: Loose;
  readonly metadata: Loose;
  readonly output: string;
  readonly state: Loose;
}

type KindRenderer = (call: ToolCall, context: PartContext) => ToolBody;

/** What a kind shows: a subject beside the name, a note (a count), and the body under them. */
interface ToolBody {
  readonly subject?: string | undefined;
  readonly note?: string | undefined;
  readonly body?: HTMLElement | undefined;
}

const toolLabels: Readonly<Record<string, string>> = {
  bash: "Shell",
  read: "Read",
  write: "Write",
  edit: "Edit",
  todowrite: "Plan",
  grep: "Grep",
  glob: "Glob",
  list: "List",
  webfetch: "Fetch",
  task: "Task",
};

const kinds: Readonly<Record<string, KindRenderer>> = {
  bash: renderBash,
  read: renderRead,
  write: renderWrite,
  edit: renderEdit,
  todowrite: (call) => ({ subject: planTitle(call.input), body: renderTodos(call.input.todos) }),
  grep: (call, context) =>
    search(call, context, quoted(call.input.pattern), count(call.metadata.matches, "match")),
  glob: (call, context) =>
    search(call, context, quoted(call.input.pattern), count(call.metadata.count, "result")),
  list: (call, context) => search(call, context, text(call.input.path), undefined),
  webfetch: renderWebfetch,
  task: renderTask,
};

/** A tool part (its status `completed`, `error`, or one the filter let through). */
export function renderTool(data: Loose, context: PartContext): HTMLElement {
  const state = isObject(data.state) ? data.state : {};
  const status = nonEmptyString(state.status) ?? "unknown";
  const tool = nonEmptyString(data.tool) ?? "tool";
  const call: ToolCall = {
    tool,
    input: isObject(state.input) ? state.input : {},
    metadata: isObject(state.metadata) ? state.metadata : {},
    output: typeof state.output === "string" ? state.output : formatValue(state.output),
    state,
  };
  const failure = status === "error" ? errorOf(state.error) : metadataError(call);
  const shown =
    failure === undefined ? (ownEntry(kinds, tool) ?? renderGeneric)(call, context) : {};
  const subject = shown.subject ?? (failure !== undefined ? subjectOf(call) : undefined);
  const element = h(
    "div",
    `part part-tool tool-${/^[a-z_-]+$/.test(status) ? status : "other"} tool-kind-${/^[a-z0-9_-]+$/.test(tool) ? tool : "other"}`,
    toolHeader(tool, subject, shown.note, durationOf(state)),
    failure !== undefined ? renderError(failure) : shown.body,
  );
  if (failure !== undefined) element.classList.add("tool-failed");
  return element;
}

function toolHeader(
  tool: string,
  subject: string | undefined,
  note: string | undefined,
  duration: string | undefined,
): HTMLElement {
  return h(
    "div",
    "tool-header",
    h("span", "tool-name", ownEntry(toolLabels, tool) ?? tool),
    subject ? h("span", "tool-subject", subject) : null,
    note ? h("span", "tool-note", note) : null,
    duration ? h("span", "tool-duration", duration) : null,
  );
}

/** The shell: the command (highlighted), then its output, clamped. */
function renderBash(call: ToolCall, context: PartContext): ToolBody {
  const command = text(call.input.command) ?? "";
  const output = text(call.metadata.output) ?? text(call.metadata.stdout) ?? call.output;
  const body = h("div", "tool-body", codeBlock(`$ ${command}`, "bash", "tool-command"));
  if (output.trim() !== "") {
    body.appendChild(
      clamp(codeBlock(output, undefined, "tool-output"), output, "output", context.last),
    );
  }
  return { subject: text(call.input.description), body };
}

function renderRead(call: ToolCall, context: PartContext): ToolBody {
  const path = filePath(call.input);
  const preview = text(call.metadata.preview);
  const shown = preview ?? call.output;
  if (shown.trim() === "") return { subject: path };
  const language = preview !== undefined ? languageForPath(path) : undefined;
  const label = preview !== undefined ? "Show preview" : "Show results";
  return {
    subject: path,
    body: results(label, codeBlock(shown, language, "tool-output"), context.last),
  };
}

function renderWrite(call: ToolCall, context: PartContext): ToolBody {
  const path = filePath(call.input);
  const content = text(call.input.content) ?? "";
  if (content === "") return { subject: path };
  return {
    subject: path,
    body: results(
      "Show contents",
      codeBlock(content, languageForPath(path), "tool-content"),
      context.last,
    ),
  };
}

function renderEdit(call: ToolCall): ToolBody {
  const path = filePath(call.input);
  const patch = patchOfChange(call.metadata, path);
  return { subject: path, body: patch !== undefined ? renderPatch(patch) : undefined };
}

/** grep, glob and list: what was looked for, how many were found, the output folded. */
function search(
  call: ToolCall,
  context: PartContext,
  subject: string | undefined,
  note: string | undefined,
): ToolBody {
  if (call.output.trim() === "") return { subject, note };
  const output = codeBlock(call.output, undefined, "tool-output");
  return {
    subject,
    note,
    body: results(note ? `Show ${note}` : "Show results", output, context.last),
  };
}

function renderWebfetch(call: ToolCall, context: PartContext): ToolBody {
  const url = text(call.input.url);
  if (call.output.trim() === "") return { subject: url };
  const format = text(call.input.format);
  const language = format === "html" ? "xml" : format;
  const output = codeBlock(call.output, language, "tool-output");
  return { subject: url, body: results("Show results", output, context.last) };
}

function renderTask(call: ToolCall, context: PartContext): ToolBody {
  const body = h("div", "tool-body");
  const prompt = text(call.input.prompt);
  if (prompt)
    body.appendChild(clamp(h("div", "task-prompt", prompt), prompt, "user", context.last));
  if (call.output.trim() !== "") {
    body.appendChild(
      results("Show output", renderMarkdown(call.output, "tool-output"), context.last),
    );
  }
  return { subject: text(call.input.description), body: body.firstChild ? body : undefined };
}

/** Any other tool: its input as `a.b[0].c  value` rows, then its output folded. */
function renderGeneric(call: ToolCall, context: PartContext): ToolBody {
  const body = h("div", "tool-body");
  const rows = flatten(call.input);
  if (rows.length > 0) {
    const table = h("dl", "tool-input");
    for (const [name, value] of rows) {
      table.appendChild(h("div", "input-row", h("dt", null, name), h("dd", null, value)));
    }
    body.appendChild(table);
  }
  if (call.output.trim() !== "") {
    body.appendChild(
      results("Show results", codeBlock(call.output, undefined, "tool-output"), context.last),
    );
  }
  return { body: body.firstChild ? body : undefined };
}

/** An input's leaves as rows named by their path (`todos[0].content`). */
export function flatten(
  value: unknown,
  prefix = "",
  rows: [string, string][] = [],
): [string, string][] {
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) flatten(item, `${prefix}[${index}]`, rows);
  } else if (isObject(value)) {
    for (const [key, item] of Object.entries(value))
      flatten(item, prefix ? `${prefix}.${key}` : key, rows);
  } else if (value !== undefined) {
    rows.push([prefix || "value", formatValue(value)]);
  }
  return rows;
}

function renderError(message: string): HTMLElement {
  return h(
    "div",
    "tool-error error",
    h("span", "error-label", "Error"),
    h("span", "error-text", message),
  );
}

/** A failed tool's error text, without the "Error: " its message often starts with. */
function errorOf(error: unknown): string {
  const message = errorText(error);
  return message.replace(/^Error:\s*/, "");
}

/** read, edit and webfetch report some failures in their metadata while "completed". */
function metadataError(call: ToolCall): string | undefined {
  if (call.metadata.error === undefined || call.metadata.error === false) return undefined;
  if (!["read", "edit", "webfetch"].includes(call.tool)) return undefined;
  return (
    text(call.metadata.message) ??
    errorOf(call.metadata.error === true ? call.output : call.metadata.error)
  );
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

function subjectOf(call: ToolCall): string | undefined {
  return (
    filePath(call.input) ??
    text(call.input.command) ??
    text(call.input.url) ??
    text(call.input.pattern)
  );
}

function planTitle(input: Loose): string {
  const todos = Array.isArray(input.todos) ? input.todos.filter(isObject) : [];
  const done = todos.filter((todo) => todo.status === "completed").length;
  if (done === 0) return "Creating plan";
  return done === todos.length ? "Completing plan" : "Updating plan";
}

function durationOf(state: Loose): string | undefined {
  const time = isObject(state.time) ? state.time : {};
  const start = finite(time.start);
  const end = finite(time.end);
  if (start === undefined || end === undefined || end - start <= shownDurationMs) return undefined;
  return formatDuration(end - start);
}

function filePath(input: Loose): string | undefined {
  return text(input.filePath) ?? text(input.path) ?? text(input.file);
}

function count(value: unknown, noun: string): string | undefined {
  const n = finite(value);
  return n === undefined
    ? undefined
    : `${n} ${n === 1 ? noun : noun === "match" ? "matches" : `${noun}s`}`;
}

function quoted(value: unknown): string | undefined {
  const pattern = text(value);
  return pattern === undefined ? undefined : `"${pattern}"`;
}

function text(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}
