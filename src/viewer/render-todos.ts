// The todo list a `todowrite` call sets, as OpenCode's page orders it: what is in progress
// first, then what is pending, then what is done (cancelled last); each with its status marked.

import { h, ownEntry } from "./dom.js";
import { isObject } from "./session-model.js";

const statusOrder: Readonly<Record<string, number>> = {
  in_progress: 0,
  pending: 1,
  completed: 2,
  cancelled: 3,
};

const statusMarks: Readonly<Record<string, string>> = {
  in_progress: "◐",
  pending: "○",
  completed: "●",
  cancelled: "⊘",
};

/** The todos in reading order (stable within one status). */
export function sortTodos<T extends { readonly status?: unknown }>(todos: readonly T[]): T[] {
  const rank = (todo: T) => ownEntry(statusOrder, String(todo.status)) ?? 1;
  return [...todos].sort((a, b) => rank(a) - rank(b));
}

/** `todos` (`[{content, status, priority?}]`) as a list, or undefined when there are none. */
export function renderTodos(todos: unknown): HTMLElement | undefined {
  const items = Array.isArray(todos) ? todos.filter(isObject) : [];
  if (items.length === 0) return undefined;
  const list = h("ul", "todos");
  for (const todo of sortTodos(items)) {
    const status = typeof todo.status === "string" ? todo.status : "pending";
    const item = h(
      "li",
      `todo todo-${/^[a-z_]+$/.test(status) ? status : "other"}`,
      h(
        "span",
        { className: "todo-mark", attrs: { "aria-label": status.replace("_", " ") } },
        ownEntry(statusMarks, status) ?? "○",
      ),
      h("span", "todo-text", typeof todo.content === "string" ? todo.content : ""),
    );
    list.appendChild(item);
  }
  return list;
}
