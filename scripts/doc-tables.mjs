// Renders the reference tables of docs/operations.md (every setting, every metric) and
// docs/errors.md (every error code, close code and exit code) from the tables in the code, between markers such as
// `<!-- generated: server-settings -->` … `<!-- end: server-settings -->`.
//
//   npm run docs        rewrites the docs from the built tables (dist/)
//
// test/docs.test.ts renders the same sections from the sources and fails when a doc differs, so a
// setting or an error added to the code without `npm run docs` is caught.

import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** A Markdown table: a header row, a separator, and the rows (cells escaped for `|`). */
function table(header, rows) {
  const line = (cells) =>
    `| ${cells.map((cell) => String(cell).replaceAll("|", "\\|")).join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

function defaultOf(setting) {
  if (setting.defaultText !== undefined)
    return setting.defaultText.startsWith("–") ? setting.defaultText : `\`${setting.defaultText}\``;
  return setting.default === undefined ? "–" : `\`${String(setting.default)}\``;
}

function flagOf(setting) {
  if (setting.flag === undefined) return "–";
  return `\`${setting.flag}${setting.value === undefined ? "" : ` ${setting.value}`}\``;
}

/** The table of one settings table: flag, env (when any has one), config key, default, meaning. */
export function renderSettings(settings, tableName) {
  const entries = Object.values(settings);
  const withEnv = entries.some((setting) => setting.env !== undefined);
  const header = [
    "flag",
    ...(withEnv ? ["env"] : []),
    `\`[${tableName}]\` key`,
    "default",
    "meaning",
  ];
  const rows = entries.map((setting) => [
    flagOf(setting),
    ...(withEnv ? [setting.env === undefined ? "–" : `\`${setting.env}\``] : []),
    `\`${setting.key}\``,
    defaultOf(setting),
    setting.doc ?? setting.help,
  ]);
  return table(header, rows);
}

/** Every setting that is a limit: its key and flag, default, what a client sees, its metric. */
export function renderLimits(settings) {
  const rows = Object.values(settings)
    .filter((setting) => setting.limit !== undefined)
    .map((setting) => [
      `\`${setting.key}\` (${flagOf(setting)})`,
      defaultOf(setting),
      setting.limit.whenHit,
      setting.limit.metric === undefined ? "–" : `\`${setting.limit.metric}\``,
    ]);
  return table(["limit", "default", "when it is hit", "metric"], rows);
}

/** The error codes: code, meaning, HTTP status, close code, exit code, retried by clients. */
export function renderErrors(errorTable) {
  const rows = Object.entries(errorTable).map(([code, spec]) => [
    `\`${code}\``,
    spec.meaning,
    spec.status ?? "–",
    spec.close ?? "–",
    spec.exit,
    spec.retryable ? "yes" : "no",
  ]);
  return table(["code", "meaning", "HTTP", "close", "exit", "retry"], rows);
}

/** One endpoint's close codes. */
export function renderEndpointCloseCodes(specs) {
  return table(
    ["code", "when"],
    Object.values(specs).map((spec) => [spec.code, spec.when]),
  );
}

/** Each endpoint's close codes. */
export function renderCloseCodes(closeCodeTable) {
  const rows = Object.entries(closeCodeTable).flatMap(([endpoint, specs]) =>
    Object.values(specs).map((spec) => [spec.code, `\`${endpoint}\``, spec.when]),
  );
  return table(["code", "endpoint", "when"], rows);
}

/** The server's metrics: name, type, labels, meaning (its HELP text). */
export function renderMetrics(metrics) {
  const rows = metrics.map((metric) => [
    `\`${metric.name}\``,
    metric.type,
    metric.labels.length === 0 ? "–" : metric.labels.map((label) => `\`${label}\``).join(", "),
    metric.help.replace(/\.$/, ""),
  ]);
  return table(["metric", "type", "labels", "meaning"], rows);
}

/** The exit codes. */
export function renderExitCodes(exitCodeMeanings) {
  return table(
    ["code", "meaning"],
    Object.entries(exitCodeMeanings).map(([code, meaning]) => [code, meaning]),
  );
}

/** Every generated section of each doc, by the doc's path from the repository's root. */
export function renderSections(tables) {
  return {
    "README.md": {
      "exit-codes": renderExitCodes(tables.exitCodeMeanings),
    },
    "docs/operations.md": {
      "server-settings": renderSettings(tables.serverSettings, "server"),
      limits: renderLimits(tables.serverSettings),
      "sync-settings": renderSettings(tables.syncSettings, "sync"),
      "share-settings": renderSettings(tables.shareSettings, "share"),
      "transport-settings": renderSettings(tables.transportSettings, "transport"),
      "admin-settings": renderSettings(tables.adminSettings, "admin"),
      metrics: renderMetrics(tables.metrics),
    },
    "docs/protocol.md": {
      "automerge-close-codes": renderEndpointCloseCodes(
        tables.closeCodeTable["automerge (any other path)"],
      ),
      "share-close-codes": renderEndpointCloseCodes(tables.closeCodeTable["/share_poll"]),
      "wire-close-codes": renderEndpointCloseCodes(tables.closeCodeTable["/wire"]),
    },
    "docs/errors.md": {
      "error-codes": renderErrors(tables.errorTable),
      "close-codes": renderCloseCodes(tables.closeCodeTable),
      "exit-codes": renderExitCodes(tables.exitCodeMeanings),
    },
  };
}

/** `text` with the section `name` replaced by `body`; throws when its markers are missing. */
export function replaceSection(text, name, body) {
  const start = `<!-- generated: ${name} -->`;
  const end = `<!-- end: ${name} -->`;
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from === -1 || to < from) throw new Error(`docs: no ${start} … ${end} markers`);
  return `${text.slice(0, from + start.length)}\n${body}\n${text.slice(to)}`;
}

/**
 * A Markdown table with its cells trimmed and separator rows as `---`: the same table whatever
 * column padding a formatter (Biome) gave it, so docs compare by content.
 */
export function normalizeTables(text) {
  return text
    .split("\n")
    .map((line) => {
      if (!line.startsWith("|")) return line;
      const cells = line
        .slice(1, line.endsWith("|") ? -1 : undefined)
        .split(/(?<!\\)\|/)
        .map((cell) => cell.trim());
      return `| ${cells.map((cell) => (/^:?-+:?$/.test(cell) ? "---" : cell)).join(" | ")} |`;
    })
    .join("\n");
}

/** The section `name` of `text` as it stands, or undefined without markers. */
export function sectionOf(text, name) {
  const start = `<!-- generated: ${name} -->`;
  const end = `<!-- end: ${name} -->`;
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  return from === -1 || to < from ? undefined : text.slice(from + start.length, to).trim();
}

async function main() {
  const dist = new URL("../dist/", import.meta.url);
  const load = (path) => import(new URL(path, dist).href);
  const tables = {
    ...(await load("server/config.js")),
    ...(await load("cli/client-settings.js")),
    ...(await load("protocol/error-table.js")),
    ...(await load("protocol/close-codes.js")),
    ...(await load("protocol/exit-codes.js")),
    metrics: (await load("server/metrics.js")).describeMetrics(),
  };
  for (const [doc, sections] of Object.entries(renderSections(tables))) {
    const path = fileURLToPath(new URL(`../${doc}`, import.meta.url));
    let text = readFileSync(path, "utf8");
    for (const [name, body] of Object.entries(sections)) text = replaceSection(text, name, body);
    writeFileSync(path, text);
    console.log(`docs: wrote ${Object.keys(sections).length} section(s) of ${doc}`);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
