// Measures the JSON size of share items as OpenCode's clients build them, from real files of this
// repository and its node_modules: the figures behind the default share size limits (the table in
// docs/operations.md, "Share sizes"). Run from the repository root: node scripts/measure-opencode-items.mjs

import { readFileSync } from "node:fs";

const read = (path) => readFileSync(path, "utf8");
const bytes = (value) => Buffer.byteLength(JSON.stringify(value));
const ids = { sessionID: "ses_measure00000001", messageID: "msg_01" };

/** A bash tool part: its output capped at 30,000 characters, kept twice (output and metadata). */
function bashPart(output) {
  const capped = output.slice(0, 30_000);
  return {
    id: "prt_bash",
    ...ids,
    type: "tool",
    tool: "bash",
    callID: "call_1",
    state: {
      status: "completed",
      input: { command: "npm ls --all", description: "List installed packages" },
      output: capped,
      metadata: { output: capped, description: "List installed packages" },
      title: "npm ls --all",
      time: { start: 1, end: 2 },
    },
  };
}

/** A unified diff of one changed line near the top of `text`. */
function oneLineDiff(file, text) {
  const lines = text.split("\n");
  const context = lines.slice(0, 7);
  return `Index: ${file}\n===\n--- ${file}\n+++ ${file}\n@@ -1,7 +1,7 @@\n ${context.slice(0, 3).join("\n ")}\n-${context[3]}\n+${context[3]} // changed\n ${context.slice(4).join("\n ")}\n`;
}

/** An edit tool part of the older form: the diff, and the whole file before and after. */
function editPart(file, text) {
  const after = text.replace("\n", " // changed\n");
  const diff = oneLineDiff(file, text);
  return {
    id: "prt_edit",
    ...ids,
    type: "tool",
    tool: "edit",
    callID: "call_2",
    state: {
      status: "completed",
      input: { filePath: file, oldString: text.slice(0, 80), newString: after.slice(0, 92) },
      output: "",
      metadata: { diff, filediff: { file, before: text, after, additions: 1, deletions: 1 } },
      title: file,
      time: { start: 1, end: 2 },
    },
  };
}

/** A session_diff item's data: every changed file with its full text before and after. */
function sessionDiff(files) {
  return files.map(([file, text]) => ({
    file,
    before: text,
    after: text.replace("\n", " // changed\n"),
    additions: 1,
    deletions: 1,
  }));
}

const lock = read("package-lock.json");
const big = "node_modules/vite/dist/node/chunks/node.js";
const huge = "node_modules/typescript/lib/typescript.js";
const hub = "src/share/share-hub.ts";
const rows = [
  ["bash part, 30,000 characters of output (package-lock.json text)", bashPart(lock)],
  [`edit part, ${hub}`, editPart(hub, read(hub))],
  ["edit part, package-lock.json", editPart("package-lock.json", read("package-lock.json"))],
  [`edit part, ${big}`, editPart(big, read(big))],
  [
    `session_diff: package-lock.json, ${hub}, ${big}`,
    sessionDiff([
      ["package-lock.json", lock],
      [hub, read(hub)],
      [big, read(big)],
    ]),
  ],
  [`edit part, ${huge}`, editPart(huge, read(huge))],
];
for (const [what, value] of rows) {
  console.log(`${(bytes(value) / 1e6).toFixed(2).padStart(7)} MB  ${what}`);
}
