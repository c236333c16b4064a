// Settings defined once: each one's flag, environment variable, config-file key, default, help
// and check live in one table entry. From a table come the config type (`SettingValues`), the
// resolution flags > env > file > default with errors that name where a bad value came from,
// the CLI's options (cli/setting-options.ts) and the reference tables in docs/operations.md.

import { z } from "zod";
import type { ErrorCode } from "../protocol/error-table.js";
import { createError } from "../protocol/errors.js";

/** How a value is written where it is text (a flag, an environment variable) or TOML. */
export type SettingKind = "integer" | "number" | "boolean" | "string";

/** One setting. */
export interface Setting<S extends z.ZodType = z.ZodType> {
  /** The command-line flag, e.g. `--port`; absent for a setting only the config file sets. */
  readonly flag?: string;
  /** What the flag's value is called in help (`N`, `MS`, `FILE`); absent for a switch. */
  readonly value?: string;
  /** The environment variable; absent when there is none. */
  readonly env?: string;
  /** The key in the config file's table. */
  readonly key: string;
  readonly kind: SettingKind;
  /** Checks (and may normalise) the value; `.optional()` when it has no default. */
  readonly schema: S;
  /** The value when no source gives one. */
  readonly default?: z.output<S>;
  /** How the default reads in help and docs when the bare value would not say it. */
  readonly defaultText?: string;
  /** One line for `--help`. */
  readonly help: string;
  /** The longer explanation in docs/operations.md; default `help`. */
  readonly doc?: string;
  /** The code of an invalid value's error; default ERR_INVALID_CONFIG. */
  readonly errorCode?: ErrorCode;
  /** For a limit: what a client sees when it is hit, and the metric that counts it (docs). */
  readonly limit?: LimitDescription;
}

/** How a limit shows itself, for the limits table of docs/operations.md. */
export interface LimitDescription {
  /** What a client sees (a status, a close code, an exit code) or what the server does. */
  readonly whenHit: string;
  /** The metric that counts it or shows how close it is, when there is one. */
  readonly metric?: string;
}

/** A table of settings by field name. */
export type SettingTable = Readonly<Record<string, Setting>>;

/** The resolved values of a table: every field, `undefined` where an optional one is unset. */
export type SettingValues<T extends SettingTable> = {
  readonly [K in keyof T]: z.output<T[K]["schema"]>;
};

/** A config-file table, as found in a file. */
export interface FileTable {
  /** The file's path, named in errors. */
  readonly path: string;
  /** The table's name (`server`, `sync`, …), named in errors as `name.key`. */
  readonly name: string;
  readonly values: Readonly<Record<string, unknown>>;
}

/** Where values come from, strongest first. */
export interface SettingSources {
  /** Values the command line gave, by field name (strings; `true` for a switch). */
  readonly flags: Readonly<Record<string, unknown>>;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly file?: FileTable | undefined;
}

/** Keeps the table's literal types; a table is a plain object, checked here once. */
export function defineSettings<T extends SettingTable>(table: T): T {
  return table;
}

/** Resolves every field of `table`: flag > env (empty counts as unset) > file > default. */
export function resolveSettings<T extends SettingTable>(
  table: T,
  sources: SettingSources,
): SettingValues<T> {
  const values: Record<string, unknown> = {};
  for (const [field, setting] of Object.entries(table)) {
    values[field] = resolveOne(setting, field, sources);
  }
  return values as SettingValues<T>;
}

/** Where a field's value came from, as error messages name it. */
export function originOf(setting: Setting, sources: SettingSources, field: string): string {
  if (setting.flag !== undefined && sources.flags[field] !== undefined) return setting.flag;
  if (setting.env !== undefined && nonEmpty(sources.env[setting.env])) {
    return `environment variable ${setting.env}`;
  }
  if (sources.file?.values[setting.key] !== undefined) return fileOrigin(sources.file, setting);
  return `the default of ${setting.flag ?? setting.key}`;
}

function resolveOne(setting: Setting, field: string, sources: SettingSources): unknown {
  const origin = originOf(setting, sources, field);
  const flag = setting.flag === undefined ? undefined : sources.flags[field];
  if (flag !== undefined) return checkValue(setting, fromText(setting, flag), origin, flag);
  const env = setting.env === undefined ? undefined : sources.env[setting.env];
  if (nonEmpty(env)) return checkValue(setting, fromText(setting, env), origin, env);
  const fromFile = sources.file?.values[setting.key];
  if (fromFile !== undefined) return checkFileValue(setting, fromFile, origin);
  return setting.default;
}

/**
 * Checks a value read from a config file: it must have the TOML type of the setting (`port =
 * "3040"` is a string, not a port) and pass its check. Throws ERR_INVALID_CONFIG naming the key.
 */
export function checkFileValue(setting: Setting, value: unknown, origin: string): unknown {
  if (!hasKind(setting.kind, value)) {
    throw createError(
      "ERR_INVALID_CONFIG",
      `config: ${origin} must be ${kindNames[setting.kind]}, got ${show(value)} (${typeName(value)})`,
    );
  }
  return checkValue(setting, value, origin, value);
}

/** The file key's origin text: `server.port in /etc/syncline.toml`. */
export function fileOrigin(file: FileTable, setting: Setting): string {
  return `${file.name}.${setting.key} in ${file.path}`;
}

function checkValue(setting: Setting, value: unknown, origin: string, given: unknown): unknown {
  const parsed = setting.schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const problem = parsed.error.issues[0]?.message ?? "is invalid";
  throw createError(
    setting.errorCode ?? "ERR_INVALID_CONFIG",
    `config: ${origin} ${problem}, got ${show(given)}`,
  );
}

/** Text from a flag or the environment as the setting's kind; unparsable text stays as is. */
function fromText(setting: Setting, text: unknown): unknown {
  if (typeof text !== "string") return text;
  const trimmed = text.trim();
  switch (setting.kind) {
    case "integer":
      return /^\d+$/.test(trimmed) ? Number(trimmed) : text;
    case "number":
      return /^\d+(\.\d+)?$/.test(trimmed) ? Number(trimmed) : text;
    case "boolean":
      return booleanWords[trimmed.toLowerCase()] ?? text;
    case "string":
      return text;
  }
}

const booleanWords: Readonly<Record<string, boolean>> = {
  true: true,
  false: false,
  "1": true,
  "0": false,
  yes: true,
  no: false,
};

const kindNames: Readonly<Record<SettingKind, string>> = {
  integer: "an integer",
  number: "a number",
  boolean: "true or false",
  string: "a string",
};

function hasKind(kind: SettingKind, value: unknown): boolean {
  switch (kind) {
    case "integer":
      return typeof value === "number" && Number.isInteger(value);
    case "number":
      return typeof value === "number";
    case "boolean":
      return typeof value === "boolean";
    case "string":
      return typeof value === "string";
  }
}

function typeName(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  if (value instanceof Date) return "a date";
  if (typeof value === "object" && value !== null) return "a table";
  if (typeof value === "number") return Number.isInteger(value) ? "an integer" : "a number";
  return typeof value === "string" ? "a string" : `a ${typeof value}`;
}

function nonEmpty(value: string | undefined): value is string {
  return value !== undefined && value !== "";
}

function show(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

/** The default as help and docs show it: `defaultText`, else the value; undefined when none. */
export function defaultTextOf(setting: Setting): string | undefined {
  if (setting.defaultText !== undefined) return setting.defaultText;
  return setting.default === undefined ? undefined : String(setting.default);
}

// Checks shared by the tables: each message completes "config: --port …, got "x"".

/** A whole number from `min` to `max`. */
export function integer(min: number, max: number) {
  const range = `must be a whole number from ${min} to ${max}`;
  return z.number(range).int(range).min(min, range).max(max, range);
}

/** A number of seconds above 0, at most `max`. */
export function seconds(max: number) {
  const range = `must be a number of seconds above 0 (at most ${max})`;
  return z.number(range).gt(0, range).max(max, range);
}

/** A string with something in it (trimmed). */
export const nonEmptyText = z.string("must be a string").trim().min(1, "must not be empty");

/** One of `values`. */
export function oneOf<const V extends readonly [string, ...string[]]>(values: V) {
  return z.enum(values, `must be one of ${values.join(", ")}`);
}
