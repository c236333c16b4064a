// Syntax highlighting of code blocks and tool input/output: highlight.js's core with only the
// languages sessions mostly show (each adds to the bundle). The language comes from a markdown
// fence or a file's extension; unknown ones, and very large texts, stay plain text.

import hljs from "highlight.js/lib/core";
import bash from "highlight.js/lib/languages/bash";
import css from "highlight.js/lib/languages/css";
import diff from "highlight.js/lib/languages/diff";
import go from "highlight.js/lib/languages/go";
import ini from "highlight.js/lib/languages/ini";
import javascript from "highlight.js/lib/languages/javascript";
import json from "highlight.js/lib/languages/json";
import markdown from "highlight.js/lib/languages/markdown";
import python from "highlight.js/lib/languages/python";
import rust from "highlight.js/lib/languages/rust";
import shell from "highlight.js/lib/languages/shell";
import sql from "highlight.js/lib/languages/sql";
import typescript from "highlight.js/lib/languages/typescript";
import xml from "highlight.js/lib/languages/xml";
import yaml from "highlight.js/lib/languages/yaml";
import { h } from "./dom.js";
import { sanitizeHighlightHtml } from "./sanitize.js";

const languages = {
  bash,
  css,
  diff,
  go,
  ini,
  javascript,
  json,
  markdown,
  python,
  rust,
  shell,
  sql,
  typescript,
  xml,
  yaml,
};
for (const [name, language] of Object.entries(languages)) hljs.registerLanguage(name, language);
// Aliases a fence may use that the grammars above do not declare themselves.
hljs.registerAliases(["sh", "zsh", "console"], { languageName: "bash" });
hljs.registerAliases(["jsonc", "json5"], { languageName: "json" });
hljs.registerAliases(["toml"], { languageName: "ini" });
hljs.registerAliases(["html", "svg", "vue"], { languageName: "xml" });
hljs.registerAliases(["patch"], { languageName: "diff" });

/** Above this many characters code is shown plain: highlighting it would stall the page. */
export const highlightLimit = 200_000;

/** File extensions → language, for tool inputs and outputs that name a file. */
const extensionLanguages: Readonly<Record<string, string>> = {
  ts: "typescript",
  tsx: "typescript",
  mts: "typescript",
  cts: "typescript",
  js: "javascript",
  jsx: "javascript",
  mjs: "javascript",
  cjs: "javascript",
  json: "json",
  jsonc: "json",
  sh: "bash",
  bash: "bash",
  zsh: "bash",
  py: "python",
  go: "go",
  rs: "rust",
  diff: "diff",
  patch: "diff",
  css: "css",
  html: "xml",
  xml: "xml",
  svg: "xml",
  md: "markdown",
  markdown: "markdown",
  yaml: "yaml",
  yml: "yaml",
  sql: "sql",
  toml: "ini",
  ini: "ini",
};

/** The language of a file path by its extension, or undefined. */
export function languageForPath(path: string | undefined): string | undefined {
  const match = path === undefined ? null : /\.([A-Za-z0-9]+)$/.exec(path);
  return match ? extensionLanguages[(match[1] as string).toLowerCase()] : undefined;
}

/** The registered language for a fence name or alias, or undefined. */
export function knownLanguage(name: string | undefined): string | undefined {
  if (!name) return undefined;
  const language = hljs.getLanguage(name.toLowerCase());
  return language ? name.toLowerCase() : undefined;
}

/** Fills `code` (a `<code>` element) with `text`, highlighted when the language is known. */
export function fillCode(code: HTMLElement, text: string, language: string | undefined): void {
  const known = knownLanguage(language);
  code.classList.add("hljs");
  if (known === undefined || text.length > highlightLimit) {
    code.textContent = text;
    return;
  }
  code.dataset.language = known;
  const { value } = hljs.highlight(text, { language: known, ignoreIllegals: true });
  code.replaceChildren(sanitizeHighlightHtml(value));
}

/** A `<pre><code>` block of `text`, highlighted in `language` when known. */
export function codeBlock(text: string, language: string | undefined, className = ""): HTMLElement {
  const code = h("code");
  fillCode(code, text, language);
  return h("pre", `code-block ${className}`.trim(), code);
}
