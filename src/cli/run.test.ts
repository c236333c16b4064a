import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { createError } from "../protocol/errors.js";
import { exitCodes } from "../protocol/exit-codes.js";
import { interruptedError, toCommandError } from "./exit-error.js";
import type { CliIo } from "./io.js";
import { runCli } from "./run.js";

function fakeIo(env: Record<string, string> = {}): CliIo & { out(): string; err(): string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = "";
  let err = "";
  stdout.on("data", (chunk: Buffer) => {
    out += chunk.toString();
  });
  stderr.on("data", (chunk: Buffer) => {
    err += chunk.toString();
  });
  return {
    stdout,
    stderr,
    env: { XDG_CONFIG_HOME: "/nonexistent", ...env },
    onSignal: () => () => {},
    out: () => out,
    err: () => err,
  };
}

describe("runCli", () => {
  it("exits 2 with the commands listed when no command is given", async () => {
    const io = fakeIo();
    expect(await runCli([], io)).toBe(2);
    expect(io.err()).toContain("serve");
    expect(io.err()).toContain("syncline: no command given");
  });

  it("prints help and exits 0", async () => {
    const io = fakeIo();
    expect(await runCli(["--help"], io)).toBe(0);
    expect(io.out()).toContain("serve");
  });

  it("prints the version", async () => {
    const io = fakeIo();
    expect(await runCli(["--version"], io)).toBe(0);
    expect(io.out()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("exits 2 on an unknown flag, naming it, with one error line", async () => {
    const io = fakeIo();
    expect(await runCli(["serve", "--nope"], io)).toBe(2);
    expect(io.err()).toContain("--nope");
    expect(io.err().match(/syncline: /g)).toHaveLength(1);
  });

  it("exits 2 on an invalid value before starting anything", async () => {
    const io = fakeIo();
    expect(await runCli(["serve", "--port", "abc"], io)).toBe(2);
    expect(io.err()).toContain('--port must be a whole number from 0 to 65535, got "abc"');
  });

  it("exits 2 on a missing option argument", async () => {
    const io = fakeIo();
    expect(await runCli(["serve", "--port"], io)).toBe(2);
    expect(io.err()).toContain("--port");
  });

  it("prints a JSON error with --json", async () => {
    const io = fakeIo();
    expect(await runCli(["serve", "--log-level", "loud", "--json"], io)).toBe(2);
    expect(JSON.parse(io.out())).toEqual({
      ok: false,
      error: { code: "ERR_INVALID_CONFIG", message: expect.stringContaining("--log-level") },
    });
  });
});

describe("toCommandError", () => {
  it("keeps our errors, whose exit codes come from the error table", () => {
    expect(toCommandError(createError("ERR_INVALID_CONFIG", "x")).exitCode).toBe(exitCodes.usage);
    expect(toCommandError(createError("ERR_LISTEN", "x")).exitCode).toBe(exitCodes.cannotStart);
    expect(toCommandError(createError("ERR_STORE_WRITE", "x")).exitCode).toBe(exitCodes.unexpected);
    expect(toCommandError(createError("ERR_AUTH_PASSPHRASE", "x")).exitCode).toBe(exitCodes.usage);
    expect(toCommandError(createError("ERR_SHARE_SECRET", "x")).exitCode).toBe(
      exitCodes.authRefused,
    );
    const unknown = toCommandError(new Error("boom"));
    expect(unknown.code).toBe("ERR_UNEXPECTED");
    expect(unknown.exitCode).toBe(1);
  });

  it("ends an interrupted command with 130 for SIGINT and 143 for SIGTERM", () => {
    expect(interruptedError("x", "SIGINT")).toMatchObject({
      code: "ERR_INTERRUPTED",
      exitCode: 130,
    });
    expect(interruptedError("x", "SIGTERM")).toMatchObject({
      code: "ERR_INTERRUPTED",
      exitCode: 143,
    });
  });
});
