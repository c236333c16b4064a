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
  it("defaults: the community server, 30 s, 5 retries, no token", () => {
    const settings = resolveSyncSettings({}, ioWith());
    expect(settings).toMatchObject({
      server: "wss://sync.automerge.org",
      token: undefined,
      configPath: undefined,
    });
    expect(settings.connection).toMatchObject({ timeoutMs: 30_000, retries: 5, ca: undefined });
    expect(settings.connection.address).toMatchObject({ kind: "tcp", secure: true });
  });

  it("flags override [sync], which overrides the defaults", () => {
    const io = ioWith('[sync]\nserver = "ws://a:1"\ntimeout = 5\nretries = 1\ntoken = "t"\n');
    expect(resolveSyncSettings({}, io)).toMatchObject({
      server: "ws://a:1",
      connection: { timeoutMs: 5000, retries: 1 },
      token: "t",
    });
    expect(
      resolveSyncSettings({ server: "wss://b", timeout: "0.5", retries: "0" }, io),
    ).toMatchObject({ server: "wss://b", connection: { timeoutMs: 500, retries: 0 }, token: "t" });
  });

  it("takes unix: and http(s):// servers like every client command", () => {
    const unix = resolveSyncSettings({ server: "unix:/run/s.sock" }, ioWith());
    expect(unix.connection.address).toEqual({
      kind: "unix",
      path: "/run/s.sock",
      text: "unix:/run/s.sock",
    });
    const https = resolveSyncSettings({ server: "https://h.example/sync" }, ioWith());
    expect(https.connection.address).toMatchObject({ kind: "tcp", secure: true, base: "/sync" });
  });

  it("enabled = false is ERR_SYNC_DISABLED before any flag is checked; a broken file is still an error", () => {
    const io = ioWith("[sync]\nenabled = false\ntimeout = 5\n");
    expect(() => resolveSyncSettings({ timeout: "nope" }, io)).toThrow(
      expect.objectContaining({ code: "ERR_SYNC_DISABLED" }),
    );
    const broken = ioWith("[sync]\nenabled = false\ntimeout = -1\n");
    expect(() => resolveSyncSettings({}, broken)).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_CONFIG" }),
    );
  });

  it.each([
    [{ timeout: "soon" }, "--timeout", '"soon"'],
    [{ timeout: "0" }, "--timeout", '"0"'],
    [{ retries: "-1" }, "--retries", '"-1"'],
    [{ retries: "1.5" }, "--retries", '"1.5"'],
    [{ server: "ftp://x" }, "--server", '"ftp://x"'],
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

  it("names the config key and file for a bad [sync] value, and refuses an unknown key", () => {
    const bad = ioWith('[sync]\nretries = "many"\n');
    expect(() => resolveSyncSettings({}, bad)).toThrow(
      /sync\.retries in .*config\.toml must be an integer/,
    );
    const typo = ioWith('[sync]\nsever = "ws://private:3030"\n');
    expect(() => resolveSyncSettings({}, typo)).toThrow(
      expect.objectContaining({
        code: "ERR_CONFIG_FILE",
        message: expect.stringContaining("unknown key sync.sever in"),
      }),
    );
    expect(() => resolveSyncSettings({}, typo)).toThrow(/did you mean "server"\?/);
  });
});
