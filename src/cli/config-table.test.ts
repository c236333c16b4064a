import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { readConfigTable } from "./config-table.js";
import type { CliIo } from "./io.js";

const dirs: string[] = [];

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** An io with no default config file; `toml` (when given) is written to `--config`'s path. */
function setup(toml?: string): { io: CliIo; err: () => string; config: string | undefined } {
  const dir = mkdtempSync(join(tmpdir(), "syncline-config-table-"));
  dirs.push(dir);
  const config = toml === undefined ? undefined : join(dir, "config.toml");
  if (config !== undefined) writeFileSync(config, toml ?? "");
  const stderr = new PassThrough();
  let err = "";
  stderr.on("data", (chunk: Buffer) => {
    err += chunk.toString();
  });
  const env = { XDG_CONFIG_HOME: join(dir, "none") };
  const io: CliIo = { stdout: new PassThrough(), stderr, env, onSignal: () => () => {} };
  return { io, err: () => err, config };
}

describe("readConfigTable", () => {
  it("no config file: no path, an empty table, no warning", () => {
    const { io, err } = setup();
    expect(readConfigTable("share", ["server"], undefined, io)).toEqual({
      path: undefined,
      values: {},
    });
    expect(err()).toBe("");
  });

  it("returns the named table only and warns about its unknown keys, naming the file", () => {
    const { io, err, config } = setup(
      '[share]\nserver = "http://x"\nsrever = 1\n[sync]\nretries = 2\n',
    );
    expect(readConfigTable("share", ["server"], config, io)).toEqual({
      path: config,
      values: { server: "http://x", srever: 1 },
    });
    expect(err()).toBe(
      `syncline: warning: unknown key share.srever in ${config}; known keys: server\n`,
    );
  });

  it("a file without the table gives an empty one", () => {
    const { io, config } = setup("[sync]\nretries = 2\n");
    expect(readConfigTable("share", ["server"], config, io).values).toEqual({});
  });
});
