// Fake clipboard tools for tests: executables named xclip, wl-paste, osascript, … in a temp
// folder that is the whole PATH, each a small Node script that records its arguments and stdin
// and answers by rules: canned output, an exit code, a hang, a forked process that keeps stderr
// open (as xclip's and wl-copy's do), a line every few milliseconds (wl-paste --watch). The
// backends run them exactly as they would run the real tools, so a test sees the real command
// lines, on any host (the macOS and Windows backends included).

import {
  appendFileSync,
  chmodSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** How a fake answers one call. */
export interface FakeRule {
  /** The exact arguments this rule answers; absent: any. The first matching rule answers. */
  readonly args?: readonly string[];
  readonly stdout?: string | Uint8Array;
  readonly stderr?: string;
  readonly exit?: number;
  /** Never exits (until killed). */
  readonly hang?: boolean;
  /**
   * Leaves a process behind that holds stderr open for this long, ms, then exits by itself (so
   * nothing needs to kill it).
   */
  readonly forkMs?: number;
  /** Prints `count` lines, one every `everyMs`, then stays (or exits with `exit` if given). */
  readonly lines?: { readonly count: number; readonly everyMs: number };
  /** Records the content of the file its last argument names (a temp file handed over). */
  readonly readsLastArgFile?: boolean;
}

/** One recorded call. */
export interface FakeCall {
  readonly argv: string[];
  readonly stdin: Buffer;
  readonly pid: number;
  /** The environment variables the test asked to see (`FakeTools.watchEnv`). */
  readonly env: Record<string, string | undefined>;
  /** The content of the file of the last argument (readsLastArgFile). */
  readonly file?: Buffer;
}

const script = `
const fs = require("node:fs");
const path = require("node:path");
const { spawn } = require("node:child_process");
const me = process.argv[1];
const dir = path.dirname(me);
const name = path.basename(me);
const argv = process.argv.slice(2);
const stdin = fs.readFileSync(0);
const rules = JSON.parse(fs.readFileSync(path.join(dir, name + ".rules.json"), "utf8"));
const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
const rule = rules.find((r) => r.args === undefined || same(r.args, argv)) ??
  { exit: 99, stderr: "fake " + name + ": no rule for " + JSON.stringify(argv) };
const watched = JSON.parse(fs.readFileSync(path.join(dir, "env.json"), "utf8"));
const env = Object.fromEntries(watched.map((key) => [key, process.env[key]]));
const call = { argv, stdin: stdin.toString("base64"), pid: process.pid, env };
if (rule.readsLastArgFile) call.file = fs.readFileSync(argv[argv.length - 1]).toString("base64");
fs.appendFileSync(path.join(dir, name + ".calls"), JSON.stringify(call) + "\\n");
if (rule.forkMs !== undefined) {
  const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, " + rule.forkMs + ")"], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  child.unref();
}
if (rule.stdout !== undefined) process.stdout.write(Buffer.from(rule.stdout, "base64"));
if (rule.stderr !== undefined) process.stderr.write(rule.stderr);
if (rule.hang) setInterval(() => {}, 1000);
if (rule.lines !== undefined) {
  let left = rule.lines.count;
  const timer = setInterval(() => {
    if (left-- > 0) process.stdout.write("x\\n");
    else if (rule.exit !== undefined) {
      clearInterval(timer);
      process.exitCode = rule.exit;
    } else clearInterval(timer), setInterval(() => {}, 1000);
  }, rule.lines.everyMs);
} else {
  process.exitCode = rule.exit ?? 0;
}
`;

/** A folder of fake tools, the PATH of `env`. */
export class FakeTools {
  readonly dir = mkdtempSync(join(tmpdir(), "syncline-fake-tools-"));
  /** The environment to run backends with: PATH is the fake folder alone. */
  readonly env: NodeJS.ProcessEnv;

  constructor(extraEnv: NodeJS.ProcessEnv = {}, watchEnv: readonly string[] = []) {
    this.env = { PATH: this.dir, ...extraEnv };
    writeFileSync(join(this.dir, "env.json"), JSON.stringify(watchEnv));
  }

  /** Creates (or replaces the rules of) the fake `name`. */
  tool(name: string, rules: readonly FakeRule[]): this {
    const path = join(this.dir, name);
    writeFileSync(path, `#!${process.execPath}\n${script}`);
    chmodSync(path, 0o755);
    const encoded = rules.map((rule) => ({
      ...rule,
      stdout: rule.stdout === undefined ? undefined : Buffer.from(rule.stdout).toString("base64"),
    }));
    writeFileSync(`${path}.rules.json`, JSON.stringify(encoded));
    appendFileSync(`${path}.calls`, "");
    return this;
  }

  /** The calls of `name` so far, in order. */
  calls(name: string): FakeCall[] {
    return readFileSync(join(this.dir, `${name}.calls`), "utf8")
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => {
        const raw = JSON.parse(line);
        return {
          argv: raw.argv,
          stdin: Buffer.from(raw.stdin, "base64"),
          pid: raw.pid,
          env: raw.env,
          ...(raw.file === undefined ? {} : { file: Buffer.from(raw.file, "base64") }),
        };
      });
  }

  /** The argument lists of `name`'s calls. */
  argvs(name: string): string[][] {
    return this.calls(name).map((call) => call.argv);
  }

  /** Removes the folder (processes left behind by forkMs end by themselves). */
  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** True while process `pid` exists (a fake's, after a backend should have killed it). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
