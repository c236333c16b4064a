// The one way the viewer builds DOM: createElement, text nodes and plain attributes. Content from
// a share is a text node here; the only other way in is markdown and highlighted code, as nodes
// DOMPurify made (sanitize.ts; test/browser/viewer-source.test.ts checks both).

/** A child: a node, text (becomes a text node), or nothing (skipped). */
export type Child = Node | string | number | undefined | null | false;

/** Element options: a class name and plain string attributes. */
export interface ElementOptions {
  readonly className?: string;
  readonly attrs?: Readonly<Record<string, string>>;
}

/** Creates `<tag>` with `options` and `children`; strings become text nodes. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  options: ElementOptions | string | null = null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  const opts = typeof options === "string" ? { className: options } : (options ?? {});
  if (opts.className) element.className = opts.className;
  for (const [name, value] of Object.entries(opts.attrs ?? {})) element.setAttribute(name, value);
  append(element, ...children);
  return element;
}

/** Appends children to `parent`; strings become text nodes. */
export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    parent.appendChild(
      typeof child === "string" || typeof child === "number"
        ? document.createTextNode(String(child))
        : child,
    );
  }
}

/** Replaces all of `parent`'s children. */
export function replaceChildren(parent: Element, ...children: Child[]): void {
  while (parent.firstChild) parent.removeChild(parent.firstChild);
  append(parent, ...children);
}

/**
 * `table[key]` when `key` is the table's own entry: a share's strings pick renderers and labels,
 * and "constructor" or "toString" must not find Object.prototype's.
 */
export function ownEntry<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}
