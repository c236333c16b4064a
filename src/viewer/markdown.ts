// Markdown as OpenCode's page shows assistant text: marked (GitHub flavour: tables, task lists,
// strikethrough) into HTML, sanitized into nodes (sanitize.ts), then fenced code highlighted.
// Raw HTML inside markdown is shown as the text it is, never as markup; images are shown as
// links (the page loads nothing from elsewhere, and its CSP would refuse it anyway).

import { Marked, type Tokens } from "marked";
import { h } from "./dom.js";
import { fillCode } from "./highlight.js";
import { sanitizeMarkdownHtml } from "./sanitize.js";

const escapes: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => escapes[char] as string);
}

const marked = new Marked({
  gfm: true,
  breaks: false,
  async: false,
  renderer: {
    html({ text }: Tokens.HTML | Tokens.Tag): string {
      return escapeHtml(text);
    },
    image({ href, text }: Tokens.Image): string {
      const label = escapeHtml(text || href);
      return `<a href="${escapeHtml(href)}">${label}</a>`;
    },
  },
});

/** Markdown `text` as a `div.markdown` of safe nodes, its fenced code highlighted. */
export function renderMarkdown(text: string, className = ""): HTMLElement {
  const html = marked.parse(text, { async: false }) as string;
  const element = h("div", `markdown ${className}`.trim());
  element.appendChild(sanitizeMarkdownHtml(html));
  for (const code of element.querySelectorAll<HTMLElement>("pre > code")) {
    const language = /(?:^|\s)language-([\w+#.-]+)/.exec(code.className)?.[1];
    fillCode(code, code.textContent ?? "", language);
    code.parentElement?.classList.add("code-block");
  }
  return element;
}
