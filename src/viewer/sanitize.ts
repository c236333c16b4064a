// The one place the viewer turns HTML text into nodes: markdown's output (markdown.ts) and
// highlight.js's (highlight.ts), both through DOMPurify into a detached fragment. Share content
// reaches HTML text only escaped (marked escapes text and code, raw HTML is re-escaped by our
// renderer, highlight.js escapes code); DOMPurify then removes anything executable, so nothing
// injected runs even should an escape be missed (test/browser/viewer-source.test.ts keeps every
// other module off HTML parsing).

import DOMPurify from "dompurify";

/** Links may only lead to the web or to mail; anything else (javascript:, data:, …) loses its href. */
const safeHref = /^(?:https?:|mailto:)/i;

/** What markdown may produce: text structure, tables, code, links. No images, forms or media. */
const markdownTags = [
  "a",
  "b",
  "blockquote",
  "br",
  "code",
  "del",
  "em",
  "h1",
  "h2",
  "h3",
  "h4",
  "h5",
  "h6",
  "hr",
  "i",
  "input",
  "li",
  "ol",
  "p",
  "pre",
  "s",
  "span",
  "strong",
  "sub",
  "sup",
  "table",
  "tbody",
  "td",
  "th",
  "thead",
  "tr",
  "ul",
];

/**
 * Attributes allowed on them: links, code languages, table alignment, task-list checkboxes (the
 * only inputs markdown makes: raw HTML never reaches here unescaped, see markdown.ts).
 */
const markdownAttributes = ["href", "title", "class", "align", "type", "checked", "disabled"];

let hooked = false;

/** Links open in a new tab without handing it this page (rel), and only http(s)/mailto keep an href. */
function hookLinks(): void {
  if (hooked) return;
  hooked = true;
  DOMPurify.addHook("afterSanitizeAttributes", (node) => {
    if (node.nodeName !== "A") return;
    const href = node.getAttribute("href");
    if (href === null || !safeHref.test(href.trim())) {
      node.removeAttribute("href");
      node.removeAttribute("target");
      return;
    }
    node.setAttribute("target", "_blank");
    node.setAttribute("rel", "noopener noreferrer");
  });
}

/** Markdown's HTML as a fragment of safe nodes. */
export function sanitizeMarkdownHtml(html: string): DocumentFragment {
  hookLinks();
  return DOMPurify.sanitize(html, {
    ALLOWED_TAGS: markdownTags,
    ALLOWED_ATTR: [...markdownAttributes, "target", "rel"],
    ALLOWED_URI_REGEXP: safeHref,
    RETURN_DOM_FRAGMENT: true,
  });
}

/** highlight.js's HTML (spans with classes around escaped code) as a fragment. */
export function sanitizeHighlightHtml(html: string): DocumentFragment {
  hookLinks();
  return DOMPurify.sanitize(html, {
    ALLOWED_TAGS: ["span"],
    ALLOWED_ATTR: ["class"],
    RETURN_DOM_FRAGMENT: true,
  });
}
