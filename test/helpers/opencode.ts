// OpenCode's clients and viewer as conformance tests need them, written from how they behave (see
// docs/opencode.md): the requests its older client sends (a JSON string body with no headers at
// all, so fetch labels it text/plain), and the store its share page's viewer keeps from
// `/share_poll` frames — every frame's key split on "/", messages by the key's 4th segment, parts
// filed under `content.messageID` (a part whose message it has not seen throws and is lost).

import { openViewer } from "./share.js";

/** A request as OpenCode's older client sends it: `body` stringified, no headers set. */
export async function legacyPost(
  base: string,
  path: string,
  body: unknown,
): Promise<{ status: number; contentType: string | null; body: unknown }> {
  const response = await fetch(`${base}${path}`, { method: "POST", body: JSON.stringify(body) });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = text;
  }
  return {
    status: response.status,
    contentType: response.headers.get("content-type"),
    body: parsed,
  };
}

// biome-ignore lint/suspicious/noExplicitAny: the viewer keeps whatever JSON it is sent
type Json = any;

/** The store OpenCode's share page keeps, and what went wrong on the way. */
export interface OpenCodeViewerStore {
  info: Json;
  readonly messages: Record<string, Json>;
  /** What its frame handler threw (it catches and logs, and the frame is lost). */
  readonly errors: string[];
  /** Frames seen whose key's root is not "session" (it ignores them). */
  readonly ignored: string[];
  /** Handles one text frame as its `onmessage` does. */
  receive(text: string): void;
}

/** A fresh store, fed by `receive`. */
export function openCodeViewerStore(): OpenCodeViewerStore {
  const store: OpenCodeViewerStore = {
    info: undefined,
    messages: {},
    errors: [],
    ignored: [],
    receive(text) {
      try {
        const frame = JSON.parse(text);
        const [root, type, ...rest] = frame.key.split("/");
        if (root !== "session") {
          store.ignored.push(frame.key);
          return;
        }
        if (type === "info") store.info = frame.content;
        else if (type === "message") fileMessage(store, rest[1], frame.content);
        else if (type === "part") filePart(store, frame.content);
      } catch (error) {
        store.errors.push(String(error));
      }
    },
  };
  return store;
}

/** A message keeps the parts the store already has for it (a message frame has none). */
function fileMessage(store: OpenCodeViewerStore, messageID: string, content: Json): void {
  content.parts = content.parts ?? store.messages[messageID]?.parts ?? [];
  store.messages[messageID] = content;
}

/** A part is replaced in place by id, or appended; its message must be in the store already. */
function filePart(store: OpenCodeViewerStore, content: Json): void {
  const parts: Json[] = store.messages[content.messageID].parts;
  const index = parts.findIndex((part) => part.id === content.id);
  if (index === -1) parts.push(content);
  else parts[index] = content;
}

/** A viewer socket on `/share_poll?id=` (no version: OpenCode's frames) feeding a store. */
export interface OpenCodeViewer {
  readonly store: OpenCodeViewerStore;
  readonly frames: string[];
  /** Resolves once `count` frames arrived. */
  waitFrames(count: number, timeoutMs?: number): Promise<void>;
  readonly closed: Promise<{ code: number; reason: string }>;
  close(): void;
}

/** Connects as OpenCode's viewer does; rejects with the status when the upgrade is refused. */
export async function openOpenCodeViewer(base: string, id: string): Promise<OpenCodeViewer> {
  const store = openCodeViewerStore();
  const frames: string[] = [];
  const viewer = await openViewer(base, `id=${id}`, (text) => {
    frames.push(text);
    store.receive(text);
  });
  return {
    store,
    frames,
    closed: viewer.closed,
    close: () => viewer.socket.close(),
    waitFrames: async (count, timeoutMs) => {
      await viewer.waitFrames(count, timeoutMs);
    },
  };
}
