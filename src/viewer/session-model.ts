// The viewer's pure model: a share's state (key → content) turned into what the page shows — the
// session's title and totals, its messages in id order, each with its visible parts, and the
// session's file diffs. No DOM; the rendering reads only this.

import { parseShareKey } from "../protocol/share-items.js";
import { isVisiblePart } from "./part-filter.js";

/** A JSON object as received: any field may be missing or of an unexpected type. */
export type Loose = Readonly<Record<string, unknown>>;

/** One part as stored under `session/part/<sessionID>/<messageID>/<partID>`. */
export interface PartEntry {
  /** The part's key in the share state (stable across updates). */
  readonly key: string;
  readonly id: string;
  /** The part's `type`, or "" when it has none. */
  readonly type: string;
  /** The stored content (its reference changes exactly when the part was written again). */
  readonly data: Loose;
}

/** One message with its visible parts. */
export interface MessageView {
  readonly key: string;
  readonly id: string;
  /** "user", "assistant", another role as sent, or "unknown" for parts whose message is missing. */
  readonly role: string;
  /** The stored message content; undefined when only its parts have arrived. */
  readonly data: Loose | undefined;
  /** Creation time in ms since the epoch (new shape `time.created`, older shape `time`). */
  readonly created: number | undefined;
  /** Completion time of an assistant message (new shape only). */
  readonly completed: number | undefined;
  /** The model that wrote an assistant message (or that a user message asked for). */
  readonly model: ModelRef | undefined;
  /** The message's parts after the filter rules, sorted by id ascending. */
  readonly parts: readonly PartEntry[];
}

/** A model, as messages name it. */
export interface ModelRef {
  readonly providerID: string;
  readonly modelID: string;
}

/** Token counts summed over assistant messages. */
export interface TokenTotals {
  input: number;
  output: number;
  reasoning: number;
  cacheRead: number;
  cacheWrite: number;
}

/** The session's totals: cost and tokens over assistant messages, and the models they used. */
export interface SessionTotals {
  readonly cost: number;
  readonly tokens: TokenTotals;
  /** Models used by assistant messages, in order of first use, with display names when known. */
  readonly models: readonly { readonly ref: ModelRef; readonly name: string }[];
  readonly messages: number;
}

/** One file of the session's diff (`session/diff/<sessionID>`). */
export interface DiffFile {
  readonly file: string;
  readonly additions: number | undefined;
  readonly deletions: number | undefined;
  readonly status: string | undefined;
  readonly patch: string | undefined;
  readonly before: string | undefined;
  readonly after: string | undefined;
  readonly data: Loose;
}

/** Everything the page shows of one share. */
export interface SessionView {
  readonly sessionID: string | undefined;
  readonly title: string;
  /** The stored session info, when it has arrived. */
  readonly info: Loose | undefined;
  readonly totals: SessionTotals;
  readonly messages: readonly MessageView[];
  /** The session's diff files; undefined when none was published. */
  readonly diff: readonly DiffFile[] | undefined;
  /** The diff as stored (its reference changes exactly when it was written again). */
  readonly diffData: unknown;
}

/** The title shown when the session info has no title (or has not arrived). */
export const untitled = "Untitled session";

/** Builds the view of a share's state. Keys outside the schema and malformed contents are skipped. */
export function buildSessionView(state: ReadonlyMap<string, unknown>): SessionView {
  let info: Loose | undefined;
  let sessionID: string | undefined;
  let diffData: unknown;
  let modelList: unknown;
  const messages = new Map<string, { key: string; data: Loose | undefined; parts: PartEntry[] }>();
  const messageOf = (messageID: string, key: string) => {
    let entry = messages.get(messageID);
    if (!entry) {
      entry = { key, data: undefined, parts: [] };
      messages.set(messageID, entry);
    }
    return entry;
  };

  for (const [key, content] of state) {
    const parsed = parseShareKey(key);
    if (!parsed || content === null || content === undefined) continue;
    switch (parsed.kind) {
      case "info":
        if (isObject(content)) {
          info = content;
          sessionID = parsed.sessionID;
        }
        break;
      case "message":
        if (isObject(content)) {
          const entry = messageOf(parsed.messageID, key);
          entry.key = key;
          entry.data = content;
        }
        break;
      case "part":
        if (isObject(content)) {
          const messageKey = `session/message/${parsed.sessionID}/${parsed.messageID}`;
          messageOf(parsed.messageID, messageKey).parts.push({
            key,
            id: parsed.partID,
            type: typeof content.type === "string" ? content.type : "",
            data: content,
          });
        }
        break;
      case "diff":
        diffData = content;
        break;
      case "model":
        modelList = content;
        break;
    }
  }

  const views = [...messages.entries()]
    .sort(([a], [b]) => compareIds(a, b))
    .map(([id, entry]) => messageView(id, entry.key, entry.data, entry.parts));
  return {
    sessionID,
    title: nonEmptyString(info?.title) ?? untitled,
    info,
    totals: sumTotals(views, modelNames(modelList)),
    messages: views,
    diff: Array.isArray(diffData) ? diffData.filter(isObject).map(diffFile) : undefined,
    diffData,
  };
}

/** Orders ids as the original viewer did: plain string order (ULID-like ids sort by time). */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function messageView(
  id: string,
  key: string,
  data: Loose | undefined,
  parts: PartEntry[],
): MessageView {
  const sorted = parts.sort((a, b) => compareIds(a.id, b.id));
  const time = data?.time;
  const model = data ? modelOf(data) : undefined;
  // A step marker names the model that answered; without one it would be a bare label.
  const shown = (part: PartEntry, index: number) =>
    isVisiblePart(part.data, index) && (part.type !== "step-start" || model !== undefined);
  return {
    key,
    id,
    role: data ? (nonEmptyString(data.role) ?? "unknown") : "unknown",
    data,
    created: isObject(time) ? finite(time.created) : finite(time),
    completed: isObject(time) ? finite(time.completed) : undefined,
    model,
    parts: sorted.filter(shown),
  };
}

/** The model of a message: `providerID`/`modelID` (new shape) or `model{providerID, modelID}`. */
export function modelOf(message: Loose): ModelRef | undefined {
  const nested = isObject(message.model) ? message.model : undefined;
  const modelID = nonEmptyString(message.modelID) ?? nonEmptyString(nested?.modelID);
  if (!modelID) return undefined;
  const providerID = nonEmptyString(message.providerID) ?? nonEmptyString(nested?.providerID) ?? "";
  return { providerID, modelID };
}

function sumTotals(messages: readonly MessageView[], names: Map<string, string>): SessionTotals {
  let cost = 0;
  const tokens: TokenTotals = { input: 0, output: 0, reasoning: 0, cacheRead: 0, cacheWrite: 0 };
  const models = new Map<string, { ref: ModelRef; name: string }>();
  for (const message of messages) {
    if (message.role !== "assistant" || !message.data) continue;
    cost += finite(message.data.cost) ?? 0;
    const used = message.data.tokens;
    if (isObject(used)) {
      tokens.input += finite(used.input) ?? 0;
      tokens.output += finite(used.output) ?? 0;
      tokens.reasoning += finite(used.reasoning) ?? 0;
      const cache = isObject(used.cache) ? used.cache : {};
      tokens.cacheRead += finite(cache.read) ?? 0;
      tokens.cacheWrite += finite(cache.write) ?? 0;
    }
    if (message.model) {
      const id = `${message.model.providerID}/${message.model.modelID}`;
      if (!models.has(id)) {
        const name = names.get(id) ?? names.get(`/${message.model.modelID}`);
        models.set(id, { ref: message.model, name: name ?? message.model.modelID });
      }
    }
  }
  return { cost, tokens, models: [...models.values()], messages: messages.length };
}

/** Display names from the `model` item (`[{id, providerID, name}]`), by "provider/id" and "/id". */
function modelNames(list: unknown): Map<string, string> {
  const names = new Map<string, string>();
  if (!Array.isArray(list)) return names;
  for (const model of list) {
    if (!isObject(model)) continue;
    const id = nonEmptyString(model.id);
    const name = nonEmptyString(model.name);
    if (!id || !name) continue;
    names.set(`${nonEmptyString(model.providerID) ?? ""}/${id}`, name);
    if (!names.has(`/${id}`)) names.set(`/${id}`, name);
  }
  return names;
}

function diffFile(data: Loose): DiffFile {
  return {
    file: nonEmptyString(data.file) ?? nonEmptyString(data.path) ?? "(unnamed file)",
    additions: finite(data.additions),
    deletions: finite(data.deletions),
    status: nonEmptyString(data.status),
    patch: typeof data.patch === "string" ? data.patch : undefined,
    before: typeof data.before === "string" ? data.before : undefined,
    after: typeof data.after === "string" ? data.after : undefined,
    data,
  };
}

/** True for a plain JSON object (not null, not an array). */
export function isObject(value: unknown): value is Loose {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The value when it is a finite number. */
export function finite(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/** The value when it is a non-empty string. */
export function nonEmptyString(value: unknown): string | undefined {
  return typeof value === "string" && value.length > 0 ? value : undefined;
}
