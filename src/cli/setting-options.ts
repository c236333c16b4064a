// A settings table as commander options: each setting with a flag becomes an option whose help
// names its environment variable and config key and shows its default, and the parsed options
// are handed back by field name. So a setting added to a table is a flag of its command at once.

import { type Command, Option } from "commander";
import { defaultTextOf, type Setting, type SettingTable } from "../server/setting-table.js";

/** Adds an option for every setting of `table` that has a flag; `table` names the config table. */
export function addSettingOptions(
  command: Command,
  table: SettingTable,
  tableName: string,
): Command {
  for (const setting of Object.values(table)) {
    if (setting.flag === undefined) continue;
    command.addOption(new Option(flagsOf(setting), helpOf(setting, tableName)));
  }
  return command;
}

/** The parsed values of `table`'s flags, by field name (undefined where not given). */
export function settingFlags(
  table: SettingTable,
  options: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const flags: Record<string, unknown> = {};
  for (const [field, setting] of Object.entries(table)) {
    if (setting.flag === undefined) continue;
    flags[field] = options[new Option(flagsOf(setting)).attributeName()];
  }
  return flags;
}

function flagsOf(setting: Setting): string {
  return setting.value === undefined
    ? (setting.flag as string)
    : `${setting.flag} <${setting.value.toLowerCase()}>`;
}

/** `help [env X, config table.key] (default …)`. */
function helpOf(setting: Setting, tableName: string): string {
  const sources = [
    ...(setting.env === undefined ? [] : [`env ${setting.env}`]),
    `config ${tableName}.${setting.key}`,
  ];
  const fallback = defaultTextOf(setting);
  const shown = fallback === undefined ? "" : ` (default ${fallback})`;
  return `${setting.help} [${sources.join(", ")}]${shown}`;
}

/** The `[name]` table of the config file as help text: each key, its default and meaning. */
export function configHelp(name: string, table: SettingTable): string {
  const lines = Object.values(table).map((setting) => {
    const fallback = defaultTextOf(setting);
    return `  ${setting.key} — ${setting.help}${fallback === undefined ? "" : ` (default ${fallback})`}`;
  });
  return `\nConfig file ($XDG_CONFIG_HOME/syncline/config.toml or --config), table [${name}]:\n${lines.join("\n")}\n`;
}
