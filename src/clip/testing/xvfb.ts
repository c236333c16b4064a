// A throwaway X server (Xvfb) for tests of the X11 backends against the real xclip and xsel: it
// picks a free display number itself (-displayfd) and listens on no TCP port; `stop()` ends
// exactly the process it started, and with it the xclip and xsel processes serving selections.

import { type ChildProcess, spawn } from "node:child_process";
import type { Readable } from "node:stream";
import { findOnPath } from "../which.js";

/** A running Xvfb. */
export interface TestXvfb {
  /** The value for DISPLAY, e.g. ":1". */
  readonly display: string;
  stop(): Promise<void>;
}

/** Why the real X11 tests cannot run here (the tools missing), or undefined. */
export function x11ToolsMissing(): string | undefined {
  const missing = ["Xvfb", "xclip", "xsel"].filter((name) => !findOnPath(name, process.env));
  return missing.length === 0
    ? undefined
    : `${missing.join(", ")} not on PATH (Debian: apt-get install -y xvfb xclip xsel)`;
}

/** Starts Xvfb and waits until it accepts clients. */
export function startXvfb(): Promise<TestXvfb> {
  const child: ChildProcess = spawn(
    "Xvfb",
    ["-displayfd", "3", "-nolisten", "tcp", "-screen", "0", "320x240x24"],
    { stdio: ["ignore", "ignore", "pipe", "pipe"] },
  );
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let stderr = "";
  child.stderr?.on("data", (chunk) => {
    stderr += chunk;
  });
  return new Promise((resolve, reject) => {
    let printed = "";
    const timer = setTimeout(() => fail("did not report its display within 10 s"), 10_000);
    const fail = (why: string) => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(new Error(`Xvfb ${why}: ${stderr.trim()}`));
    };
    const early = (code: number | null) => fail(`exited (${code})`);
    child.once("exit", early);
    // -displayfd: the server writes its display number and a newline there once it is ready.
    (child.stdio[3] as Readable).on("data", (chunk: Buffer) => {
      printed += chunk.toString();
      if (!printed.includes("\n")) return;
      clearTimeout(timer);
      child.removeListener("exit", early);
      resolve({
        display: `:${printed.trim()}`,
        async stop() {
          if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
          await exited;
        },
      });
    });
  });
}
