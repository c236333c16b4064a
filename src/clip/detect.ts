// Picks the clipboard backend for this session: on macOS and Windows the system's own tools; on
// Linux and the BSDs the display server's, Wayland first (a Wayland session that runs Xwayland
// sets DISPLAY too, but its native applications use the Wayland clipboard, which the compositor
// only mirrors to X11), then X11 with xclip, then xsel. When nothing fits, the error says what
// to install or set, for this system.

import { createError } from "../protocol/errors.js";
import type { Clipboard, ClipboardOptions } from "./clipboard.js";
import { installHint, readOsRelease } from "./install-hint.js";
import { createMacosClipboard } from "./macos.js";
import { createWaylandClipboard } from "./wayland.js";
import { type FindExecutable, pathFinder } from "./which.js";
import { createWindowsClipboard } from "./windows.js";
import { createXclipClipboard } from "./x11.js";
import { createXselClipboard } from "./xsel.js";

/** What detection looks at; the environment is also the tools' (ClipboardOptions.env). */
export interface DetectOptions extends ClipboardOptions {
  readonly env: NodeJS.ProcessEnv;
  readonly platform: NodeJS.Platform;
  /** Finds a tool by name; default: a search of `env`'s PATH. */
  readonly findExecutable?: FindExecutable;
  /** The text of /etc/os-release, for the install hint; default: this host's. */
  readonly osRelease?: string;
}

/** The clipboard of this session; ERR_CLIPBOARD_UNAVAILABLE naming what is missing. */
export function detectClipboard(options: DetectOptions): Clipboard {
  const { env, platform } = options;
  const find = options.findExecutable ?? pathFinder(env, platform);
  const missing = (names: readonly string[]) => names.filter((name) => find(name) === undefined);

  if (platform === "darwin") {
    const absent = missing(["pbpaste", "pbcopy", "osascript"]);
    if (absent.length > 0) {
      throw unavailable(
        `${absent.join(", ")} not found on PATH: they come with macOS, in /usr/bin; add /usr/bin to PATH`,
      );
    }
    return createMacosClipboard(options);
  }
  if (platform === "win32") {
    if (missing(["powershell"]).length > 0) {
      throw unavailable(
        "powershell.exe not found on PATH: Windows PowerShell comes with Windows, in %SystemRoot%\\System32\\WindowsPowerShell\\v1.0; add that folder to PATH",
      );
    }
    return createWindowsClipboard(options);
  }

  const wayland = isSet(env.WAYLAND_DISPLAY);
  const x11 = isSet(env.DISPLAY);
  const waylandMissing = missing(["wl-paste", "wl-copy"]);
  if (wayland && waylandMissing.length === 0) return createWaylandClipboard(options);
  if (x11 && missing(["xclip"]).length === 0) return createXclipClipboard(options);
  if (x11 && missing(["xsel"]).length === 0) return createXselClipboard(options);

  const osRelease = () =>
    options.osRelease ?? (platform === process.platform ? readOsRelease() : undefined);
  if (wayland) {
    throw unavailable(
      `WAYLAND_DISPLAY is set, but ${waylandMissing.join(" and ")} ${waylandMissing.length > 1 ? "are" : "is"} not on PATH: install wl-clipboard (${installHint("wl-clipboard", platform, osRelease())})`,
    );
  }
  if (x11) {
    throw unavailable(
      `DISPLAY is set, but neither xclip nor xsel is on PATH: install xclip or xsel (${installHint("xclip", platform, osRelease())}; xsel carries text only)`,
    );
  }
  throw unavailable(
    "no DISPLAY or WAYLAND_DISPLAY: syncline clip needs a graphical session; run it from a terminal of your desktop session, or set WAYLAND_DISPLAY or DISPLAY to its display",
  );
}

function isSet(value: string | undefined): boolean {
  return value !== undefined && value.trim() !== "";
}

function unavailable(why: string) {
  return createError("ERR_CLIPBOARD_UNAVAILABLE", `syncline clip: ${why}`);
}
