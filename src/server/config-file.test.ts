import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { serverSettings } from "./config.js";
import { fileTable, findConfigFile, loadConfigFile } from "./config-file.js";
import { defineSettings, integer } from "./setting-table.js";

/** The server's table and a client-like one, as the CLI passes every table it knows. */
const tables = {
  server: serverSettings,
  sync: defineSettings({
    timeout: { key: "timeout", kind: "integer", schema: integer(1, 100), default: 30, help: "t" },
    enabled: { key: "enabled", kind: "boolean", schema: z.boolean(), default: true, help: "e" },
  }),
};

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
  it("loads every known table", () => {
    const path = write("ok.toml", '[server]\nport = 4000\nhost = "0.0.0.0"\n[sync]\ntimeout = 5\n');
    const file = loadConfigFile(path, tables);
    expect(fileTable(file, "server")).toEqual({
      path,
      name: "server",
      values: { port: 4000, host: "0.0.0.0" },
    });
    expect(fileTable(file, "sync")?.values).toEqual({ timeout: 5 });
    expect(fileTable(file, "transport")).toBeUndefined();
  });

  it("names an unknown key or table in any table, with the closest known name", () => {
    const error = (text: string) => {
      try {
        loadConfigFile(write("typo.toml", text), tables);
      } catch (thrown) {
        return thrown as { code: string; message: string };
      }
      throw new Error("expected an error");
    };
    const key = error("[sync]\ntimout = 5\n");
    expect(key.code).toBe("ERR_CONFIG_FILE");
    expect(key.message).toContain("unknown key sync.timout in");
    expect(key.message).toContain('(did you mean "timeout"?)');
    expect(error("[srever]\nport = 1\n").message).toContain('(did you mean "server"?)');
    expect(error("[server]\nprot = 1\n").message).toContain('(did you mean "port"?)');
  });

  it("refuses a value of the wrong type in any table, naming table, key and file", () => {
    const path = write("types.toml", '[sync]\nenabled = "no"\n');
    expect(() => loadConfigFile(path, tables)).toThrow(
      expect.objectContaining({
        code: "ERR_INVALID_CONFIG",
        message: `config: sync.enabled in ${path} must be true or false, got "no" (a string)`,
      }),
    );
    const range = write("range.toml", "[sync]\ntimeout = 500\n");
    expect(() => loadConfigFile(range, tables)).toThrow(
      /sync\.timeout in .* must be a whole number/,
    );
  });

  it("rejects invalid TOML, unknown tables and unknown [server] keys", () => {
    expect(codeOf(() => loadConfigFile(write("bad.toml", "[server\nport="), tables))).toBe(
      "ERR_CONFIG_FILE",
    );
    expect(codeOf(() => loadConfigFile(write("t.toml", "[srever]\nport=1"), tables))).toBe(
      "ERR_CONFIG_FILE",
    );
    expect(codeOf(() => loadConfigFile(write("k.toml", "[server]\nprot=1"), tables))).toBe(
      "ERR_CONFIG_FILE",
    );
  });

  it("reports a missing explicit file", () => {
    expect(codeOf(() => loadConfigFile(join(dir, "missing.toml"), tables))).toBe("ERR_CONFIG_FILE");
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
