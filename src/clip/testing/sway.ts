// A throwaway Wayland compositor for tests of the Wayland backend against the real wl-clipboard:
// sway on its headless backend (no screen, no GPU, no input devices). Sway is wlroots-based, so it
// has the data-control protocol wl-paste --watch needs, and wl-copy can take the selection with no
// window focused. Sway refuses to run as root, so as root it runs as nobody, in a runtime folder
// of its own that root's tools can still reach. `stop()` ends sway and removes that folder.

import { type ChildProcess, spawn } from "node:child_process";
import { chownSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findOnPath } from "../which.js";

/** A running headless sway. */
export interface TestSway {
  /** XDG_RUNTIME_DIR and WAYLAND_DISPLAY for a client of this compositor. */
  readonly env: { readonly XDG_RUNTIME_DIR: string; readonly WAYLAND_DISPLAY: string };
  stop(): Promise<void>;
}

/** The uid and gid of nobody on Debian. */
const nobody = 65_534;

/** Why the real Wayland tests cannot run here (the tools missing), or undefined. */
export function waylandToolsMissing(): string | undefined {
  const missing = ["sway", "wl-copy", "wl-paste"].filter((name) => !findOnPath(name, process.env));
  if (process.getuid?.() === 0 && !findOnPath("setpriv", process.env)) missing.push("setpriv");
  return missing.length === 0
    ? undefined
    : `${missing.join(", ")} not on PATH (Debian: apt-get install -y sway wl-clipboard)`;
}

/** Starts sway headless and waits until its Wayland socket is there. */
export async function startSway(): Promise<TestSway> {
  const root = process.getuid?.() === 0;
  // As nobody, sway must be able to reach its folder: /tmp is open to all, a root's TMPDIR may not be.
  const runtimeDir = mkdtempSync(join(root ? "/tmp" : tmpdir(), "syncline-sway-"));
  if (root) chownSync(runtimeDir, nobody, nobody);
  const env = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: runtimeDir,
    XDG_RUNTIME_DIR: runtimeDir,
    WLR_BACKENDS: "headless",
    WLR_RENDERER: "pixman",
    WLR_LIBINPUT_NO_DEVICES: "1",
  };
  const sway = ["sway", "--config", "/dev/null"];
  const [command, ...args] = root
    ? ["setpriv", `--reuid=${nobody}`, `--regid=${nobody}`, "--clear-groups", ...sway]
    : sway;
  const child: ChildProcess = spawn(command as string, args, {
    env,
    stdio: ["ignore", "ignore", "pipe"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let stderr = "";
  child.stderr?.on("data", (chunk) => {
    if (stderr.length < 8192) stderr += chunk;
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
    rmSync(runtimeDir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  for (;;) {
    const socket = readdirSync(runtimeDir).find((name) => /^wayland-\d+$/.test(name));
    if (socket !== undefined) {
      return { env: { XDG_RUNTIME_DIR: runtimeDir, WAYLAND_DISPLAY: socket }, stop };
    }
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      const why = child.exitCode === null ? "did not open its socket within 10 s" : "exited";
      await stop();
      throw new Error(`sway ${why}: ${stderr.trim()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
