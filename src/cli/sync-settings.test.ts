import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import type { CliIo } from "./io.js";
import { resolveSyncSettings } from "./sync-settings.js";

const dirs: string[] = [];

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** An io whose SYNCLINE_CONFIG holds `toml` (none when undefined); stderr is collected. */
function ioWith(toml?: string): CliIo & { err(): string } {
  const dir = mkdtempSync(join(tmpdir(), "syncline-sync-settings-"));
  dirs.push(dir);
  const env: Record<string, string> = { XDG_CONFIG_HOME: join(dir, "none") };
  if (toml !== undefined) {
    env.SYNCLINE_CONFIG = join(dir, "config.toml");
    writeFileSync(env.SYNCLINE_CONFIG, toml);
  }
  const stderr = new PassThrough();
  let err = "";
  stderr.on("data", (chunk: Buffer) => {
    err += chunk.toString();
  });
  return { stdout: new PassThrough(), stderr, env, onSignal: () => () => {}, err: () => err };
}

describe("resolveSyncSettings", () => {
  it("defaults: the community server, 30 s, 3 retries, no token", () => {
    expect(resolveSyncSettings({}, ioWith())).toEqual({
      server: "wss://sync.automerge.org",
      token: undefined,
      timeoutMs: 30_000,
      retries: 3,
      configPath: undefined,
    });
  });

  it("flags override [sync], which overrides the defaults", () => {
    const io = ioWith('[sync]\nserver = "ws://a:1"\ntimeout = 5\nretries = 1\ntoken = "t"\n');
    expect(resolveSyncSettings({}, io)).toMatchObject({
      server: "ws://a:1",
      timeoutMs: 5000,
      retries: 1,
      token: "t",
    });
    expect(
      resolveSyncSettings({ server: "wss://b", timeout: "0.5", retries: "0" }, io),
    ).toMatchObject({ server: "wss://b", timeoutMs: 500, retries: 0, token: "t" });
  });

  it("enabled = false is ERR_SYNC_DISABLED, before any other value is checked", () => {
    const io = ioWith("[sync]\nenabled = false\ntimeout = -1\n");
    expect(() => resolveSyncSettings({ timeout: "nope" }, io)).toThrow(
      expect.objectContaining({ code: "ERR_SYNC_DISABLED" }),
    );
  });

  it.each([
    [{ timeout: "soon" }, "--timeout", '"soon"'],
    [{ timeout: "0" }, "--timeout", '"0"'],
    [{ retries: "-1" }, "--retries", '"-1"'],
    [{ retries: "1.5" }, "--retries", '"1.5"'],
    [{ server: "http://x" }, "--server", '"http://x"'],
  ])("rejects %o naming %s and the value", (flags, flag, value) => {
    let thrown: unknown;
    try {
      resolveSyncSettings(flags, ioWith());
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ exitCode: 2 });
    expect((thrown as Error).message).toContain(flag);
    expect((thrown as Error).message).toContain(value);
  });

  it("names the config key and file for a bad [sync] value; warns about unknown keys", () => {
    const bad = ioWith('[sync]\nretries = "many"\n');
    expect(() => resolveSyncSettings({}, bad)).toThrow(/sync\.retries in .*config\.toml/);
    const unknown = ioWith("[sync]\nenable = false\n");
    expect(resolveSyncSettings({}, unknown).server).toBe("wss://sync.automerge.org");
    expect(unknown.err()).toContain("unknown key sync.enable");
  });
});
