// Runs the built CLI (package.json's bin.syncline) as a child process, as users and scripts do.

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "../..");
const pkg = JSON.parse(readFileSync(resolve(root, "package.json"), "utf8")) as {
  bin: { syncline: string };
};

/** The absolute path of the built CLI; fails clearly when `npm run build` has not run. */
export function cliPath(): string {
  const path = resolve(root, pkg.bin.syncline);
  if (!existsSync(path))
    throw new Error(`the CLI is not built: ${path} is missing; run npm run build`);
  return path;
}

/** The outcome of a finished CLI run. */
export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Where and as whom a CLI child runs. */
export interface SpawnOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /**
   * Run as an unprivileged user: as `nobody` (via setpriv) when the tests run as root, whom file
   * permissions do not stop; as ourselves otherwise. For tests of permission errors, which make a
   * folder read-only (chmod) and must also hold as root.
   */
  readonly unprivileged?: boolean;
}

/** Runs `syncline ...args` to completion (killed after `timeoutMs`). */
export function runCliProcess(
  args: readonly string[],
  options: SpawnOptions & { timeoutMs?: number; input?: string } = {},
): Promise<CliResult> {
  const child = spawnCli(args, options);
  if (options.input !== undefined) child.stdin?.end(options.input);
  return waitForExit(child, options.timeoutMs ?? 15_000);
}

/** The user and group `nobody` (65534): `setpriv` drops root's to them before running node. */
const asNobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"];

/** Everything a child printed so far, collected from the moment it was spawned. */
const outputs = new WeakMap<ChildProcess, { stdout: string; stderr: string }>();

/** Starts `syncline ...args` and leaves it running; its output is collected from the start. */
export function spawnCli(args: readonly string[], options: SpawnOptions = {}): ChildProcess {
  const command = [process.execPath, cliPath(), ...args];
  if (options.unprivileged && process.getuid?.() === 0) command.unshift(...asNobody);
  const child = spawn(command[0] as string, command.slice(1), {
    cwd: options.cwd ?? root,
    env: { ...process.env, ...options.env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  const output = { stdout: "", stderr: "" };
  outputs.set(child, output);
  child.stdout?.on("data", (chunk: Buffer) => {
    output.stdout += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output.stderr += chunk.toString();
  });
  return child;
}

/** Waits until a child from `spawnCli` exits (killed after `timeoutMs`), with all its output. */
export function waitForExit(child: ChildProcess, timeoutMs: number): Promise<CliResult> {
  const output = outputs.get(child) ?? { stdout: "", stderr: "" };
  return new Promise((resolvePromise) => {
    const done = () =>
      resolvePromise({ code: child.exitCode, signal: child.signalCode, ...output });
    if (child.exitCode !== null || child.signalCode !== null) return done();
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("close", () => {
      clearTimeout(timer);
      done();
    });
  });
}

/** Resolves with the first stdout line matching `pattern` (rejects if the child exits first). */
export function waitForLine(
  child: ChildProcess,
  pattern: RegExp,
  timeoutMs = 10_000,
): Promise<string> {
  return waitForOutput(child, "stdout", pattern, timeoutMs, (text) =>
    text.split("\n").find((candidate) => pattern.test(candidate)),
  );
}

/** Resolves once the child's stderr matches `pattern` (rejects if it exits first). */
export async function waitForStderr(
  child: ChildProcess,
  pattern: RegExp,
  timeoutMs = 10_000,
): Promise<void> {
  await waitForOutput(child, "stderr", pattern, timeoutMs, (text) =>
    pattern.test(text) ? text : undefined,
  );
}

/** Resolves with what `find` finds in a stream's output so far, checked as output arrives. */
function waitForOutput(
  child: ChildProcess,
  stream: "stdout" | "stderr",
  pattern: RegExp,
  timeoutMs: number,
  find: (text: string) => string | undefined,
): Promise<string> {
  const output = outputs.get(child) ?? { stdout: "", stderr: "" };
  return new Promise((resolvePromise, reject) => {
    const check = () => {
      const found = find(output[stream]);
      if (found === undefined) return;
      cleanup();
      resolvePromise(found);
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(
        new Error(
          `exited with ${code} before ${stream} matched ${pattern}; stderr: ${output.stderr}`,
        ),
      );
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${stream} never matched ${pattern}; stderr: ${output.stderr}`));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      child[stream]?.off("data", check);
      child.off("exit", onExit);
    };
    // Registered after spawnCli's collector, so `output` already holds the new chunk.
    child[stream]?.on("data", check);
    child.once("exit", onExit);
    check();
  });
}

let devices = 0;

/**
 * The environment of a fresh "device" under `root`: its own HOME and XDG config dir (so no
 * developer config leaks in) and no SYNCLINE_CONFIG; `config` becomes its config.toml.
 */
export function createDeviceEnv(root: string, config?: string): NodeJS.ProcessEnv {
  const home = join(root, "homes", `device-${++devices}`);
  mkdirSync(join(home, ".config", "syncline"), { recursive: true });
  if (config !== undefined) writeFileSync(join(home, ".config", "syncline", "config.toml"), config);
  return { HOME: home, XDG_CONFIG_HOME: join(home, ".config"), SYNCLINE_CONFIG: undefined };
}

/**
 * The environment of a `syncline serve` child under `root`: its config dir there, and none of a
 * developer's SYNCLINE_CONFIG, PORT or HOST (they would override `--port 0` and the data dir).
 */
export function serveEnv(root: string): NodeJS.ProcessEnv {
  return { XDG_CONFIG_HOME: root, SYNCLINE_CONFIG: "", PORT: "", HOST: "" };
}

/** A running `syncline serve` child and the http(s):// base URL it printed. */
export interface ServeChild {
  readonly child: ChildProcess;
  readonly base: string;
}

/**
 * Starts `syncline serve --port 0 --data <data> ...args` and resolves once it printed where it
 * listens (port 0: only that line says which port it got).
 */
export async function startServe(
  data: string,
  options: { env: NodeJS.ProcessEnv; args?: readonly string[] },
): Promise<ServeChild> {
  const child = spawnCli(["serve", "--port", "0", "--data", data, ...(options.args ?? [])], {
    env: options.env,
  });
  const line = await waitForLine(child, /^listening on http/, 15_000);
  return { child, base: line.slice("listening on ".length).trim() };
}

/** Stops a `syncline serve` child gracefully (SIGTERM) and waits for it to exit. */
export async function stopServe(child: ChildProcess): Promise<CliResult> {
  child.kill("SIGTERM");
  return waitForExit(child, 10_000);
}
