// Runs one clipboard tool (wl-paste, xclip, pbpaste, powershell, …) without a shell, its
// arguments as an array, with a deadline and a cap on what it prints: a tool stuck on an
// unresponsive clipboard owner, or an item far bigger than we carry, must not stall or bloat the
// `syncline clip` loop. Every failure becomes ERR_CLIPBOARD naming the command line and quoting
// the tool's own error output.

import { type ChildProcess, spawn } from "node:child_process";
import { createError, type SynclineError } from "../protocol/errors.js";
import { type ClipboardOptions, clipboardDefaults } from "./clipboard.js";

/** The limits of one backend, applied to each of its tool runs. */
export interface ToolLimits {
  /** The tools' environment; its PATH finds them. */
  readonly env: NodeJS.ProcessEnv;
  readonly timeoutMs: number;
  /** The most a tool may print on stdout; more and it is killed. */
  readonly maxBytes: number;
}

/** The limits `options` ask for, with the defaults filled in. */
export function limitsOf(options: ClipboardOptions): ToolLimits {
  return {
    env: options.env ?? process.env,
    timeoutMs: options.timeoutMs ?? clipboardDefaults.timeoutMs,
    maxBytes: options.maxBytes ?? clipboardDefaults.maxBytes,
  };
}

/** One run of a tool. */
export interface ToolCall {
  readonly command: string;
  readonly args: readonly string[];
  /** The command line for messages, when the real one is unreadable (an encoded script). */
  readonly shown?: string;
  /** Written to the tool's stdin, which is then closed; without it stdin is /dev/null. */
  readonly input?: Uint8Array;
  /**
   * The tool forks a process that goes on serving the clipboard (xclip -i, wl-copy, xsel
   * --input) and inherits stderr: the run is over when the tool itself exits, not when its
   * output closes, which would be when the clipboard next changes. Its stdout is not read.
   */
  readonly forks?: boolean;
  /** Variables added to the environment for this run. */
  readonly env?: NodeJS.ProcessEnv;
  /** Replaces the limits' maxBytes (output that encodes the item, such as hex or base64). */
  readonly maxBytes?: number;
  /** Replaces the limits' timeoutMs (a query that should be answered at once). */
  readonly timeoutMs?: number;
}

/** What a tool printed and how it ended. */
export interface ToolOutput {
  /** The exit code; -1 when a signal ended it. */
  readonly code: number;
  readonly stdout: Buffer;
  /** Its error output, trimmed, at most the first 4 KiB. */
  readonly stderr: string;
  /**
   * The tool's process id, which is also its process group's on Unix (it runs in its own
   * session): a process it forked stays in that group (see serving-process.ts).
   */
  readonly pid: number | undefined;
}

const stderrKept = 4096;

/** The command line of `call` as messages show it. */
export function shownCommand(call: ToolCall): string {
  return call.shown ?? [call.command, ...call.args].join(" ");
}

/** ERR_CLIPBOARD for `call`: `what` went wrong, with the tool's stderr if it said anything. */
export function toolError(call: ToolCall, what: string, stderr = "", cause?: unknown) {
  const said = stderr === "" ? "" : `: ${stderr}`;
  return createError("ERR_CLIPBOARD", `clipboard: \`${shownCommand(call)}\` ${what}${said}`, {
    cause,
  });
}

/** Runs `call`; rejects with ERR_CLIPBOARD if it cannot start, times out or prints too much. */
export function runTool(call: ToolCall, limits: ToolLimits): Promise<ToolOutput> {
  const maxBytes = call.maxBytes ?? limits.maxBytes;
  const timeoutMs = call.timeoutMs ?? limits.timeoutMs;
  return new Promise((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = spawn(call.command, [...call.args], {
        env: { ...limits.env, ...call.env },
        stdio: [call.input ? "pipe" : "ignore", call.forks ? "ignore" : "pipe", "pipe"],
        // Its own session: Ctrl-C on `syncline clip` must not reach a forked xclip or wl-copy,
        // whose death would empty the clipboard; and a timeout kills the whole group, including
        // helpers the tool started (wl-paste's cat).
        detached: process.platform !== "win32",
        windowsHide: true,
      });
    } catch (error) {
      reject(toolError(call, "cannot be started", messageOf(error), error));
      return;
    }
    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    let stderr = "";
    let settled = false;
    let killedBy: string | undefined;
    let closed = false;
    const finish = (error: SynclineError | undefined, code = -1) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) {
        // Once closed, nothing of its group holds our pipes and there is nothing left to kill.
        if (!closed) killGroup(child);
        reject(error);
      } else {
        resolve({ code, stdout: Buffer.concat(stdout), stderr: stderr.trim(), pid: child.pid });
      }
      // Our ends of the pipes: a forked server keeps its stderr, and must not keep us.
      child.stdout?.destroy();
      child.stderr?.destroy();
    };
    const timer = setTimeout(() => {
      finish(
        toolError(call, `did not finish within ${timeoutMs} ms and was killed`, stderr.trim()),
      );
    }, timeoutMs);

    child.stdout?.on("data", (chunk: Buffer) => {
      stdoutBytes += chunk.length;
      if (stdoutBytes > maxBytes) {
        finish(
          toolError(
            call,
            `printed more than ${maxBytes} bytes (the item size limit) and was killed`,
          ),
        );
      } else {
        stdout.push(chunk);
      }
    });
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (chunk: string) => {
      if (stderr.length < stderrKept) stderr = (stderr + chunk).slice(0, stderrKept);
    });
    child.on("error", (error: NodeJS.ErrnoException) => {
      const what =
        error.code === "ENOENT"
          ? `cannot run: ${call.command} is not on PATH`
          : "cannot be started";
      finish(toolError(call, what, messageOf(error), error));
    });
    child.on("exit", (code, signal) => {
      // A forking tool that succeeded is done now; any other outcome waits for "close", which
      // follows once its output is drained (the timer still guards it).
      if (call.forks && code === 0) finish(undefined, 0);
      else if (signal !== null) killedBy = signal;
    });
    child.on("close", (code) => {
      closed = true;
      if (killedBy !== undefined) {
        finish(toolError(call, `was killed by ${killedBy}`, stderr.trim()));
      } else {
        finish(undefined, code ?? -1);
      }
    });
    if (call.input && child.stdin) {
      // A tool that fails early closes its stdin: EPIPE here, its exit code and stderr say why.
      child.stdin.on("error", () => {});
      child.stdin.end(call.input);
    }
  });
}

/** Runs `call` and returns its stdout; a non-zero exit is ERR_CLIPBOARD quoting its stderr. */
export async function runToolOk(call: ToolCall, limits: ToolLimits): Promise<Buffer> {
  const output = await runTool(call, limits);
  if (output.code !== 0) throw failed(call, output);
  return output.stdout;
}

/** ERR_CLIPBOARD for a run that exited non-zero. */
export function failed(call: ToolCall, output: ToolOutput): SynclineError {
  return toolError(call, `failed (exit code ${output.code})`, output.stderr);
}

/**
 * Kills the tool and whatever it started in its session: on Unix its process group, which stays
 * valid after the tool itself exited while a helper it started lives on. Call it only before the
 * child's "close": after it, the group may be gone and its id taken.
 */
export function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  if (process.platform === "win32") {
    child.kill();
    return;
  }
  try {
    process.kill(-child.pid, "SIGKILL");
  } catch {
    child.kill("SIGKILL"); // no such group (not detached): the tool alone
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
