// A long-running tool that prints a line for each clipboard change (`wl-paste --watch echo x`):
// each line is one change. The tool should run until stopped; if it ends or cannot start (a
// compositor without the data-control protocol refuses watch mode), the caller hears once and
// falls back to polling.

import { spawn } from "node:child_process";
import type { ClipWatch } from "./clipboard.js";
import { killGroup, type ToolCall, toolError } from "./run-tool.js";

/** Starts `call`; `onLine` after each line it prints, `onError` once if it ends by itself. */
export function watchTool(
  call: ToolCall,
  env: NodeJS.ProcessEnv,
  onLine: () => void,
  onError: (error: Error) => void = () => {},
): ClipWatch {
  let stopped = false;
  let stderr = "";
  const child = spawn(call.command, [...call.args], {
    env: { ...env, ...call.env },
    stdio: ["ignore", "pipe", "pipe"],
    // Its own group, so stop() ends the commands it runs per change as well.
    detached: process.platform !== "win32",
    windowsHide: true,
  });
  let closed = false;
  const fail = (error: Error) => {
    if (stopped) return;
    stopped = true;
    if (!closed) killGroup(child);
    onError(error);
  };
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (chunk: string) => {
    // Only the line breaks matter: nothing of what the lines say is kept.
    for (const char of chunk) if (char === "\n" && !stopped) onLine();
  });
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk: string) => {
    if (stderr.length < 4096) stderr = (stderr + chunk).slice(0, 4096);
  });
  child.on("error", (error: NodeJS.ErrnoException) => {
    const what =
      error.code === "ENOENT" ? `cannot run: ${call.command} is not on PATH` : "cannot be started";
    fail(toolError(call, what, error.message, error));
  });
  child.on("close", (code, signal) => {
    closed = true;
    const how = signal === null ? `exit code ${code}` : signal;
    fail(toolError(call, `stopped watching the clipboard (${how})`, stderr.trim()));
  });
  return {
    stop() {
      if (stopped) return;
      stopped = true;
      if (!closed) killGroup(child);
      child.stdout.destroy();
      child.stderr.destroy();
    },
  };
}
