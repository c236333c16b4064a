import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { serverFileKeys } from "./config.js";
import { findConfigFile, loadConfigFile } from "./config-file.js";

const dir = mkdtempSync(join(tmpdir(), "syncline-config-"));

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
}

describe("config file", () => {
  it("loads the [server] table and passes other known tables through", () => {
    const path = write("ok.toml", '[server]\nport = 4000\nhost = "0.0.0.0"\n[sync]\ntimeout = 5\n');
    const file = loadConfigFile(path, serverFileKeys);
    expect(file.server).toEqual({ port: 4000, host: "0.0.0.0" });
    expect(file.sync).toEqual({ timeout: 5 });
  });

  it("rejects invalid TOML, unknown tables and unknown [server] keys", () => {
    expect(codeOf(() => loadConfigFile(write("bad.toml", "[server\nport="), serverFileKeys))).toBe(
      "ERR_CONFIG_FILE",
    );
    expect(codeOf(() => loadConfigFile(write("t.toml", "[srever]\nport=1"), serverFileKeys))).toBe(
      "ERR_CONFIG_FILE",
    );
    expect(codeOf(() => loadConfigFile(write("k.toml", "[server]\nprot=1"), serverFileKeys))).toBe(
      "ERR_CONFIG_FILE",
    );
  });

  it("reports a missing explicit file", () => {
    expect(codeOf(() => loadConfigFile(join(dir, "missing.toml"), serverFileKeys))).toBe(
      "ERR_CONFIG_FILE",
    );
  });

  it("finds --config, then SYNCLINE_CONFIG, then an existing XDG file", () => {
    expect(findConfigFile("/x.toml", { SYNCLINE_CONFIG: "/y.toml" })).toEqual({
      path: "/x.toml",
      required: true,
    });
    expect(findConfigFile(undefined, { SYNCLINE_CONFIG: "/y.toml" })?.path).toBe("/y.toml");
    expect(findConfigFile(undefined, { XDG_CONFIG_HOME: dir })).toBeUndefined();
    const xdg = mkdtempSync(join(tmpdir(), "syncline-xdg-"));
    mkdirSync(join(xdg, "syncline"));
    writeFileSync(join(xdg, "syncline", "config.toml"), "");
    expect(findConfigFile(undefined, { XDG_CONFIG_HOME: xdg })).toEqual({
      path: join(xdg, "syncline", "config.toml"),
      required: false,
    });
  });
});
