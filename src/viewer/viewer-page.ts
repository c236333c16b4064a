// The page: a sticky bar (the session's title, the live status, "Retry now" while reconnecting),
// the session, and the clear page of an unknown or deleted share. Live updates re-render only
// what changed: a part's element is kept while its stored content is the same object and it is
// still (or still not) the session's last part, a message's while its content and visible parts
// are (so an open <details> stays open); the header is rebuilt on every render (it is small).
// New content is followed only when the reader is at the bottom already.

import type { ViewerStatus } from "../share/client/viewer-client-api.js";
import { h, replaceChildren } from "./dom.js";
import { renderDiffSection } from "./render-diff.js";
import { renderPart } from "./render-parts.js";
import { renderHeader, renderMessage } from "./render-session.js";
import { buildSessionView, type MessageView } from "./session-model.js";

/** The connection states the page shows: the viewer client's statuses. */
export type PageStatus = ViewerStatus;

/** What each status reads as in the status bar. */
export const statusLabels: Readonly<Record<PageStatus, string>> = {
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting…",
  deleted: "Deleted",
  "not-found": "Not found",
  closed: "Disconnected",
};

/** The page of one share, mounted in a root element. */
export interface ViewerPage {
  /** Shows `state` (the whole share state); renders in a later task, once per burst of updates. */
  setState(state: ReadonlyMap<string, unknown>): void;
  /** Shows the connection status; `deleted` and `not-found` replace the session with a clear page. */
  setStatus(status: PageStatus): void;
}

/** What the page's controls do. */
export interface ViewerPageActions {
  /** "Retry now" (shown while reconnecting). */
  readonly retryNow?: () => void;
}

interface CachedPart {
  readonly data: unknown;
  readonly last: boolean;
  readonly node: HTMLElement;
}

interface CachedMessage {
  readonly signature: readonly unknown[];
  readonly node: HTMLElement;
}

/** Mounts the page in `root` (its children are replaced). */
export function createViewerPage(
  root: HTMLElement,
  shareId: string,
  actions: ViewerPageActions = {},
): ViewerPage {
  const status = h("span", {
    className: "status",
    attrs: { role: "status", "aria-live": "polite" },
  });
  const retry = h("button", { className: "retry-now", attrs: { type: "button" } }, "Retry now");
  retry.hidden = true;
  retry.addEventListener("click", () => actions.retryNow?.());
  const barTitle = h("span", "bar-title", "Syncline share");
  const bar = h(
    "header",
    "status-bar",
    h("span", "bar-heading", barTitle, h("code", "share-id", shareId)),
    status,
    retry,
  );
  const header = h("div", "header-slot");
  const messages = h("div", "messages");
  const diff = h("div", "diff-slot");
  const empty = h("p", "empty", "Waiting for the session's first messages…");
  const session = h("main", "session", header, empty, messages, diff);
  replaceChildren(root, bar, session);

  const parts = new Map<string, CachedPart>();
  const rendered = new Map<string, CachedMessage>();
  let state: ReadonlyMap<string, unknown> = new Map();
  let diffData: unknown;
  let scheduled = false;
  let renders = 0;
  let gone = false;

  const renderMessageNode = (message: MessageView, lastPart: string | undefined): HTMLElement => {
    const holdsLast = message.parts.some((part) => part.key === lastPart);
    const signature = [message.data, holdsLast, ...message.parts.map((part) => part.data)];
    const cached = rendered.get(message.key);
    if (cached && sameItems(cached.signature, signature)) return cached.node;
    const partNodes = message.parts.map((part) => {
      const last = part.key === lastPart;
      const hit = parts.get(part.key);
      if (hit && hit.data === part.data && hit.last === last) return hit.node;
      const node = renderPart(part, { role: message.role, model: message.model, last });
      parts.set(part.key, { data: part.data, last, node });
      return node;
    });
    const node = renderMessage(message, partNodes);
    rendered.set(message.key, { signature, node });
    return node;
  };

  const render = () => {
    scheduled = false;
    if (gone) return;
    const follow = renders > 0 && isScrolledToBottom();
    renders++;
    const view = buildSessionView(state);
    document.title = `${view.title} · Syncline`;
    barTitle.textContent = view.title;
    replaceChildren(header, renderHeader(view));
    const lastPart = view.messages.at(-1)?.parts.at(-1)?.key;
    const nodes = view.messages.map((message) => renderMessageNode(message, lastPart));
    placeInOrder(messages, nodes);
    forgetExcept(rendered, new Set(view.messages.map((message) => message.key)));
    forgetExcept(parts, new Set(view.messages.flatMap((m) => m.parts.map((part) => part.key))));
    empty.hidden = view.messages.length > 0;
    if (view.diffData !== diffData) {
      diffData = view.diffData;
      replaceChildren(
        diff,
        view.diff && view.diff.length > 0 ? renderDiffSection(view.diff) : null,
      );
    }
    if (follow) window.scrollTo(0, document.body.scrollHeight);
  };

  return {
    setState(next) {
      state = next;
      if (scheduled) return;
      scheduled = true;
      // A task, not a microtask: frames already queued on the socket are applied before we draw.
      setTimeout(render, 0);
    },
    setStatus(next) {
      status.textContent = statusLabels[next];
      status.className = `status status-${next}`;
      document.body.dataset.status = next;
      retry.hidden = next !== "reconnecting";
      if (next === "deleted" || next === "not-found") {
        gone = true;
        barTitle.textContent = statusLabels[next];
        replaceChildren(session, renderGone(next, shareId));
        document.title = `${statusLabels[next]} · Syncline`;
      }
    },
  };
}

/** The clear page of a share that does not exist or was deleted. */
function renderGone(status: "deleted" | "not-found", shareId: string): HTMLElement {
  const deleted = status === "deleted";
  return h(
    "section",
    { className: `gone gone-${status}`, attrs: { role: "alert" } },
    h("h1", null, deleted ? "This share was deleted" : "Share not found"),
    h(
      "p",
      null,
      deleted
        ? `Its owner deleted share ${shareId}; nothing of it is kept on this server.`
        : `There is no share ${shareId} on this server. The link may be mistyped, or the share was never created or has been deleted.`,
    ),
  );
}

/** Makes `parent`'s children exactly `nodes`, in order, moving only what is out of place. */
function placeInOrder(parent: HTMLElement, nodes: readonly HTMLElement[]): void {
  nodes.forEach((node, index) => {
    const current = parent.children[index];
    if (current !== node) parent.insertBefore(node, current ?? null);
  });
  while (parent.children.length > nodes.length) parent.lastElementChild?.remove();
}

function sameItems(a: readonly unknown[], b: readonly unknown[]): boolean {
  return a.length === b.length && a.every((item, index) => item === b[index]);
}

function forgetExcept<V>(cache: Map<string, V>, keep: ReadonlySet<string>): void {
  for (const key of cache.keys()) if (!keep.has(key)) cache.delete(key);
}

function isScrolledToBottom(): boolean {
  return window.innerHeight + window.scrollY >= document.body.scrollHeight - 80;
}
